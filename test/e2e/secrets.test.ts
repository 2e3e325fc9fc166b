/**
 * The plaintext auth key exists only in the create response: after a full run
 * of transfers (accepted, refused, locked out, deleted, left pending) it is in
 * no event, no workflow history or description as an operator exports them
 * (`temporal workflow show|describe --output json`), no log line and no
 * database file. Tokens likewise never reach an event or a log, the
 * inventory's service secret, in any spelling, reaches no file but its own,
 * and an access key's secret is in no file the stack writes, its own store
 * included.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../libs/config/src/config';
import { TOPICS } from '../../libs/contracts/src/events';
import { transferWorkflowId } from '../../libs/temporal/src/transfer.definitions';
import { createAccessKey } from '../support/access-keys';
import { KafkaCollector } from '../support/kafka-collector';
import { signRequest } from '../support/sdk-signer';
import { ROOT_DIR, testEnv, testStack } from '../support/stack';
import { call, Tenant } from '../support/tenants';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (!stat) return [];
    if (stat.isDirectory()) return filesUnder(full);
    // Sockets and pipes (PostgreSQL's socket, when it runs in the data folder) hold nothing at rest.
    return stat.isFile() ? [full] : [];
  });
}

/** Every file the stack wrote but its key files: logs, SQLite and PostgreSQL databases, Kafka's log segments. */
function stackFiles(): string[] {
  return filesUnder(testStack().dataDir).filter((f) => !f.includes(`${path.sep}keys${path.sep}`));
}

interface StoredContent {
  name: string;
  bytes: Buffer;
}

/**
 * What the stack keeps at rest: every file it wrote (but its keys), and, when
 * its stores are on PostgreSQL (DATABASE_URL), the database's rows as
 * pg_dump writes them (bytea columns in hex, which callers search for too).
 */
async function storedContents(): Promise<StoredContent[]> {
  const contents: StoredContent[] = [];
  for (const file of stackFiles()) {
    // SQLite's journal files come and go while the stack runs.
    const bytes = readIfPresent(file);
    if (bytes !== null) contents.push({ name: path.relative(testStack().dataDir, file), bytes });
  }
  const databaseUrl = testEnv().DATABASE_URL ?? '';
  if (/^postgres(ql)?:/.test(databaseUrl)) {
    const { stdout } = await run('/usr/lib/postgresql/15/bin/pg_dump', ['--data-only', databaseUrl], { maxBuffer: 512 * 1024 * 1024 });
    contents.push({ name: 'PostgreSQL (pg_dump --data-only)', bytes: Buffer.from(stdout) });
  }
  return contents;
}

/** A secret as it may sit at rest: as written, and as the hex PostgreSQL prints bytea in. */
function spellings(secret: string | Buffer): (string | Buffer)[] {
  return typeof secret === 'string' ? [secret, Buffer.from(secret).toString('hex')] : [secret];
}

function readIfPresent(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

const run = promisify(execFile);
const TEMPORAL_CLI = process.env.TEMPORAL_CLI || path.join(ROOT_DIR, '.tools/temporal-venv/bin/temporal');

/** What `temporal workflow <command> --output json` prints for a workflow: an operator's export. */
async function temporalExport(command: 'show' | 'describe', workflowId: string): Promise<string> {
  const stack = testStack();
  const { stdout } = await run(
    TEMPORAL_CLI,
    ['workflow', command, '--workflow-id', workflowId, '--address', stack.temporalAddress, '--namespace', stack.namespace, '--output', 'json'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}

/**
 * The export as text with every payload decoded: the CLI prints payload
 * bytes (inputs, results, update arguments, memo, search attributes) as
 * base64, where a plain substring search would never see a leaked key.
 */
function withPayloadsDecoded(exported: string): string {
  const decoded: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if ((key === 'data' || key === 'encoding') && typeof inner === 'string') decoded.push(Buffer.from(inner, 'base64').toString('utf8'));
        else visit(inner);
      }
    }
  };
  visit(JSON.parse(exported));
  return [exported, ...decoded].join('\n');
}

let events: KafkaCollector;
beforeAll(async () => {
  events = await KafkaCollector.start(Object.values(TOPICS));
});
afterAll(async () => {
  await events.stop();
});

describe('secrets stay secret', () => {
  it('finds the auth key nowhere but in the create response', async () => {
    const a = await Tenant.create('secret-a');
    const b = await Tenant.create('secret-b');
    const keys: string[] = [];
    const ids: string[] = [];
    const start = async () => {
      const disk = await a.createDisk();
      const { transfer } = (await a.createTransfer(disk.id)).body;
      keys.push(transfer.auth_key);
      ids.push(transfer.id);
      return transfer as { id: string; auth_key: string };
    };
    const accepted = await start();
    expect((await b.acceptTransfer(accepted.id, accepted.auth_key.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')))).status).toBe(400);
    expect((await b.acceptTransfer(accepted.id, accepted.auth_key)).status).toBe(202);
    const deleted = await start();
    expect((await a.deleteTransfer(deleted.id)).status).toBe(202);
    const lockedOut = await start();
    for (let attempt = 0; attempt < 6; attempt++) await b.acceptTransfer(lockedOut.id, '0000000000000000');
    expect((await b.acceptTransfer(lockedOut.id, lockedOut.auth_key)).status).toBe(429);
    await start(); // left pending

    await events.waitFor((e) => e.id === `${deleted.id}/deleted`);
    await events.waitFor((e) => e.id === `${accepted.id}/accepted`);
    await events.waitFor((e) => e.id === `${lockedOut.id}/locked_out/1`);
    const published = JSON.stringify(events.events);
    for (const secret of [...keys, a.token, b.token]) expect(published).not.toContain(secret);

    for (const id of ids) {
      const history = withPayloadsDecoded(await temporalExport('show', transferWorkflowId(id)));
      const described = withPayloadsDecoded(await temporalExport('describe', transferWorkflowId(id)));
      // The exports are real and decoded: the history holds the start and
      // the transfer's id inside a payload (a search attribute and the
      // create update's argument carry it); the description names it too.
      expect(history).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
      expect(history).toContain(`"transferId":"${id}"`);
      expect(described).toContain(id);
      for (const key of keys) {
        expect(history).not.toContain(key);
        expect(described).not.toContain(key);
      }
    }

    // Every file the stack wrote: logs, databases (the stores' SQLite files
    // or PostgreSQL's rows, Temporal's), Kafka's log segments.
    const contents = await storedContents();
    expect(contents.some((c) => c.name.endsWith('temporal.sqlite'))).toBe(true);
    expect(contents.some((c) => c.name.endsWith('.log') && c.name.includes('kafka'))).toBe(true);
    const serviceSecret = readFileSync(loadConfig(testEnv()).inventory.serviceSecretFile);
    const secrets = [...keys, a.token, b.token, serviceSecret, serviceSecret.toString('hex'), serviceSecret.toString('base64')].flatMap(spellings);
    for (const { name, bytes } of contents) {
      for (const secret of secrets) {
        expect(bytes.includes(secret), `${name} contains a secret`).toBe(false);
      }
    }
  });

  it('finds an access key’s secret in no file the stack writes, after signed calls', async () => {
    const a = await Tenant.create('secret-aksk');
    const key = await createAccessKey(a.projectId, 'alice');
    const disk = await a.createDisk();
    const collection = a.transfers();
    const body = JSON.stringify({ transfer: { volume_id: disk.id } });
    const headers = signRequest({ method: 'POST', url: `${testStack().gatewayUrl}${collection}`, key, body, headers: { 'content-type': 'application/json' } });
    const created = await call('POST', collection, { headers, rawBody: body });
    expect(created.status).toBe(202);

    const contents = await storedContents();
    // The store itself is among what was searched, whichever database holds it.
    expect(contents.some((c) => c.name.endsWith('access-keys.sqlite') || (c.name.startsWith('PostgreSQL') && c.bytes.includes('COPY access_keys.')))).toBe(true);
    for (const { name, bytes } of contents) {
      for (const spelling of spellings(key.secretKey)) expect(bytes.includes(spelling), `${name} contains the secret key`).toBe(false);
    }
    expect(JSON.stringify(events.events)).not.toContain(key.secretKey);
  });
});
