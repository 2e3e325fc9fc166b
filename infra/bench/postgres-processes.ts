/**
 * Which running PostgreSQL clusters the stack's stores use, found in /proc:
 * a postmaster is a `postgres` process whose parent is not one, and its
 * command line (pg_ctl passes infra/postgres.sh's `-p PORT` through) or its
 * data folder's postmaster.pid says which port it serves. Only clusters on
 * this machine that a store's URL names are counted: another cluster (the
 * test suite's, say) is not the benchmark's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DatabaseTarget } from '../../libs/database/src/database-url';
import type { ProcessTable } from './process-tree';

const DEFAULT_PORT = 5432;
const LOCAL_HOSTS = new Set(['', 'localhost', '::1', '[::1]']);

const isLocal = (host: string) => LOCAL_HOSTS.has(host) || host.startsWith('127.') || host.startsWith('/');

/** The ports of the PostgreSQL servers on this machine that the stores' URLs name, each once, ascending. */
export function localPostgresPorts(targets: readonly DatabaseTarget[]): number[] {
  const ports = new Set<number>();
  for (const target of targets) {
    if (target.dialect !== 'postgres') continue;
    let url: URL;
    try {
      url = new URL(target.url);
    } catch {
      continue;
    }
    // A Unix socket is named by ?host=/dir (libpq's way); the port still names the server.
    const host = url.searchParams.get('host') ?? url.hostname;
    if (!isLocal(host)) continue;
    ports.add(url.port === '' ? DEFAULT_PORT : Number(url.port));
  }
  return [...ports].sort((a, b) => a - b);
}

/** The port a postmaster's arguments give (-p N, -pN, --port=N, -c port=N), or null. */
export function portArgument(argv: readonly string[]): number | null {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let value: string | undefined;
    if (arg === '-p') value = argv[i + 1];
    else if (arg.startsWith('-p') && !arg.startsWith('--')) value = arg.slice(2);
    else if (arg.startsWith('--port=')) value = arg.slice('--port='.length);
    else if (arg === '-c' && argv[i + 1]?.startsWith('port=')) value = argv[i + 1].slice('port='.length);
    else if (arg.startsWith('-cport=')) value = arg.slice('-cport='.length);
    const port = Number(value);
    if (value !== undefined && Number.isInteger(port) && port > 0) return port;
  }
  return null;
}

/** The data folder a postmaster's arguments give (-D DIR, -DDIR, --pgdata=DIR), or null. */
export function dataDirArgument(argv: readonly string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-D' && argv[i + 1] !== undefined) return argv[i + 1];
    if (arg.startsWith('-D') && arg.length > 2) return arg.slice(2);
    if (arg.startsWith('--pgdata=')) return arg.slice('--pgdata='.length);
  }
  return null;
}

/** Postmasters: postgres processes whose parent is not a postgres process. */
export function postmasters(table: ProcessTable): number[] {
  return [...table.values()].filter((p) => p.comm === 'postgres' && table.get(p.ppid)?.comm !== 'postgres').map((p) => p.pid);
}

function readArgv(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return [];
  }
}

/** Line 4 of DIR/postmaster.pid is the port the cluster serves; null when it cannot be read (another user's folder). */
function portFromPidFile(dataDir: string): number | null {
  try {
    const port = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[3]);
    return Number.isInteger(port) && port > 0 ? port : null;
  } catch {
    return null;
  }
}

/** For each port asked, the pid of the postmaster serving it here, or null where none could be found. */
export function findPostmasters(table: ProcessTable, ports: readonly number[]): Map<number, number | null> {
  const byPort = new Map<number, number>();
  for (const pid of postmasters(table)) {
    const argv = readArgv(pid);
    const dataDir = dataDirArgument(argv);
    const port = portArgument(argv) ?? (dataDir === null ? null : portFromPidFile(dataDir));
    if (port !== null && !byPort.has(port)) byPort.set(port, pid);
  }
  return new Map(ports.map((port) => [port, byPort.get(port) ?? null]));
}
