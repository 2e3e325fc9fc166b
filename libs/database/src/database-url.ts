/**
 * Which database a store uses, from its connection URL. Pure: nothing is
 * opened here, so a bad URL is refused at boot with the variable's name.
 *
 *   file:PATH | sqlite:PATH   that SQLite file (relative paths from DATA_DIR)
 *   postgres://... | postgresql://...   that PostgreSQL database
 *
 * DATABASE_URL names the database of every store at once: `postgres://` puts
 * each store in its own schema of that database; `sqlite:` or `file:` with no
 * path keeps each store in its own file in DATA_DIR (today's default), and
 * with a path, in its own file in that folder. A store's own variable
 * (READ_MODEL_DATABASE_URL, ...) wins over it and names one file or database.
 */
import * as path from 'node:path';
import { STORES, type StoreName } from './stores';

export type DatabaseTarget =
  | { dialect: 'sqlite'; file: string }
  | { dialect: 'postgres'; url: string; schema: string };

export class DatabaseUrlError extends Error {}

const SQLITE_SCHEMES = ['file:', 'sqlite:'];
const POSTGRES_SCHEMES = ['postgres:', 'postgresql:'];

function schemeOf(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:)/i.exec(url);
  return match ? match[1].toLowerCase() : '';
}

/** What follows `file:` or `sqlite:`, with the `//` that some spell it with. */
function sqlitePath(url: string): string {
  const rest = url.slice(url.indexOf(':') + 1);
  return rest.startsWith('//') ? rest.slice(2) : rest;
}

function checkPostgresUrl(url: string, variable: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseUrlError(`${variable}: not a valid PostgreSQL URL`);
  }
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
    throw new DatabaseUrlError(`${variable}: a PostgreSQL URL needs a host (postgres://user@host:port/database)`);
  }
  if (parsed.pathname.replace(/^\//, '') === '') {
    throw new DatabaseUrlError(`${variable}: a PostgreSQL URL needs a database name (postgres://user@host:port/database)`);
  }
}

/**
 * The target of one store. `own` is the store's own variable, `shared` is
 * DATABASE_URL, `legacyFile` the older *_DB_PATH setting (a SQLite file).
 */
export function resolveStoreTarget(
  store: StoreName,
  settings: { own: string; shared: string; legacyFile: string; dataDir: string },
): DatabaseTarget {
  const facts = STORES[store];
  const inDataDir = (file: string) => path.resolve(settings.dataDir, file);
  if (settings.own !== '') {
    const scheme = schemeOf(settings.own);
    if (SQLITE_SCHEMES.includes(scheme)) {
      const file = sqlitePath(settings.own);
      if (file === '') throw new DatabaseUrlError(`${facts.env}: a SQLite URL needs a file (sqlite:path/to/file.sqlite)`);
      return { dialect: 'sqlite', file: inDataDir(file) };
    }
    if (POSTGRES_SCHEMES.includes(scheme)) {
      checkPostgresUrl(settings.own, facts.env);
      return { dialect: 'postgres', url: settings.own, schema: facts.schema };
    }
    throw new DatabaseUrlError(`${facts.env}: unsupported scheme "${scheme || settings.own}" (use sqlite:, file: or postgres://)`);
  }
  if (settings.shared !== '') {
    const scheme = schemeOf(settings.shared);
    if (SQLITE_SCHEMES.includes(scheme)) {
      const folder = sqlitePath(settings.shared);
      if (folder === '') return { dialect: 'sqlite', file: settings.legacyFile || inDataDir(facts.file) };
      return { dialect: 'sqlite', file: path.resolve(inDataDir(folder), facts.file) };
    }
    if (POSTGRES_SCHEMES.includes(scheme)) {
      checkPostgresUrl(settings.shared, 'DATABASE_URL');
      return { dialect: 'postgres', url: settings.shared, schema: facts.schema };
    }
    throw new DatabaseUrlError(`DATABASE_URL: unsupported scheme "${scheme || settings.shared}" (use sqlite:, file: or postgres://)`);
  }
  return { dialect: 'sqlite', file: settings.legacyFile || inDataDir(facts.file) };
}

/** The target for logs and errors: a PostgreSQL password never leaves the process. */
export function describeTarget(target: DatabaseTarget): string {
  if (target.dialect === 'sqlite') return `SQLite ${target.file}`;
  try {
    const url = new URL(target.url);
    if (url.password !== '') url.password = '***';
    return `PostgreSQL ${url.toString()} (schema ${target.schema})`;
  } catch {
    return `PostgreSQL (schema ${target.schema})`;
  }
}

/** The SQLite file of a store, for tools and tests that need the file itself; refuses a PostgreSQL target. */
export function sqliteFileOf(target: DatabaseTarget): string {
  if (target.dialect !== 'sqlite') throw new Error(`expected a SQLite store, found ${describeTarget(target)}`);
  return target.file;
}
