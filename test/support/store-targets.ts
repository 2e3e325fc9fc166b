/**
 * Where a store test runs: a fresh SQLite file, and a fresh PostgreSQL
 * database on the server `npm test` starts (EVS_TEST_DATABASE_URL). Every
 * store test runs on both, so a query that only one database accepts, or a
 * race only PostgreSQL's concurrency shows, fails here.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DatabaseTarget } from '../../libs/database/src/database-url';
import { STORES, type StoreName } from '../../libs/database/src/stores';

export const DIALECTS = ['sqlite', 'postgres'] as const;
export type TestDialect = (typeof DIALECTS)[number];

export interface DisposableTarget {
  target: DatabaseTarget;
  dispose(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env.EVS_TEST_DATABASE_URL;
  if (!url) {
    throw new Error('EVS_TEST_DATABASE_URL is not set: run the store tests through npm test (or bash infra/test.sh --project stores), which starts PostgreSQL');
  }
  return url;
}

async function onServer<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A database of its own for one test: an empty SQLite file, or an empty PostgreSQL database. */
export async function freshStoreTarget(dialect: TestDialect, store: StoreName): Promise<DisposableTarget> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `evs-${store}-`));
    return {
      target: { dialect: 'sqlite', file: path.join(dir, 'nested', STORES[store].file) },
      dispose: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `evs_t_${randomBytes(6).toString('hex')}`;
  await onServer((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return {
    target: { dialect: 'postgres', url: url.toString(), schema: STORES[store].schema },
    dispose: () => onServer((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
