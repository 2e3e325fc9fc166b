/**
 * The plaintext auth key exists only in the create response: after a full run
 * of transfers it is in no event, no workflow history, no log line and no
 * database file. Tokens likewise never reach an event or a log, and an access
 * key's secret is in no file the stack writes, its own store included.
 */
import { Client, Connection } from '@temporalio/client';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../libs/contracts/src/events';
import { transferWorkflowId } from '../../libs/temporal/src/transfer.definitions';
import { createAccessKey } from '../support/access-keys';
import { KafkaCollector } from '../support/kafka-collector';
import { signRequest } from '../support/sdk-signer';
import { testStack } from '../support/stack';
import { call, Tenant } from '../support/tenants';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (!stat) return [];
    return stat.isDirectory() ? filesUnder(full) : [full];
  });
}

/** Every file the stack wrote but its key files: logs, SQLite databases, Kafka's log segments. */
function stackFiles(): string[] {
  return filesUnder(testStack().dataDir).filter((f) => !f.includes(`${path.sep}keys${path.sep}`));
}

function readIfPresent(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
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
    await start(); // left pending

    await events.waitFor((e) => e.id === `${deleted.id}/deleted`);
    await events.waitFor((e) => e.id === `${accepted.id}/accepted`);
    const published = JSON.stringify(events.events);
    for (const secret of [...keys, a.token, b.token]) expect(published).not.toContain(secret);

    const stack = testStack();
    const connection = await Connection.connect({ address: stack.temporalAddress });
    try {
      const client = new Client({ connection, namespace: stack.namespace });
      for (const id of ids) {
        const handle = client.workflow.getHandle(transferWorkflowId(id));
        const history = JSON.stringify(await handle.fetchHistory());
        const described = JSON.stringify(await handle.describe(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
        for (const key of keys) {
          expect(history).not.toContain(key);
          expect(described).not.toContain(key);
        }
      }
    } finally {
      await connection.close();
    }

    // Every file the stack wrote: logs, SQLite databases (inventory, read
    // model, Temporal's), Kafka's log segments.
    const files = stackFiles();
    expect(files.some((f) => f.endsWith('temporal.sqlite'))).toBe(true);
    expect(files.some((f) => f.endsWith('.log') && f.includes('kafka'))).toBe(true);
    for (const file of files) {
      // SQLite's journal files come and go while the stack runs.
      const bytes = readIfPresent(file);
      if (bytes === null) continue;
      for (const secret of [...keys, a.token, b.token]) {
        expect(bytes.includes(secret), `${path.relative(stack.dataDir, file)} contains a secret`).toBe(false);
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

    const files = stackFiles();
    expect(files.some((f) => f.endsWith('access-keys.sqlite'))).toBe(true);
    for (const file of files) {
      const bytes = readIfPresent(file);
      if (bytes === null) continue;
      expect(bytes.includes(key.secretKey), `${path.relative(testStack().dataDir, file)} contains the secret key`).toBe(false);
    }
    expect(JSON.stringify(events.events)).not.toContain(key.secretKey);
  });
});
