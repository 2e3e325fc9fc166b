/**
 * Expiry, through a second gateway configured with a short time to live (the
 * same Temporal server, worker, Kafka and inventory as every other test).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOUD_EVENT_TYPES, TOPICS } from '../../libs/contracts/src/events';
import { KafkaCollector } from '../support/kafka-collector';
import { ROOT_DIR, testEnv, testStack } from '../support/stack';
import { eventually, Tenant } from '../support/tenants';

/** Beside the test stack's own gateway (18090 by default), so another checkout's test stack keeps its own. */
const PORT = Number(new URL(testStack().gatewayUrl).port) + 10;
const SHORT_TTL_URL = `http://127.0.0.1:${PORT}`;
let gateway: ChildProcess;
let events: KafkaCollector;

beforeAll(async () => {
  gateway = spawn('node', ['dist/apps/gateway/src/main.js'], {
    cwd: ROOT_DIR,
    env: testEnv({ GATEWAY_PORT: String(PORT), TRANSFER_TTL_SECONDS: '3', LOG_LEVEL: 'warn' }),
    stdio: 'ignore',
  });
  await eventually(async () => (await fetch(`${SHORT_TTL_URL}/healthz`)).ok, 30_000);
  events = await KafkaCollector.start([TOPICS.lifecycle]);
});

afterAll(async () => {
  await events?.stop();
  if (gateway.exitCode === null) {
    const exited = new Promise((r) => gateway.once('exit', r));
    gateway.kill('SIGTERM');
    await exited;
  }
});

describe('expiry', () => {
  it('expires an unaccepted transfer after its time to live and gives the disk back to A', async () => {
    const a = (await Tenant.create('exp-a')).via(SHORT_TTL_URL);
    const b = (await Tenant.create('exp-b')).via(SHORT_TTL_URL);
    const disk = await a.createDisk();
    const { transfer } = (await a.createTransfer(disk.id)).body;
    expect((await a.disk(disk.id))?.status).toBe('awaiting-transfer');

    const expired = await events.waitFor((e) => e.id === `${transfer.id}/expired`, 30_000);
    expect(expired.type).toBe(CLOUD_EVENT_TYPES.TransferExpired);
    const after = await a.disk(disk.id);
    expect(after?.status).toBe('available');
    expect(after?.['os-vol-tenant-attr:tenant_id']).toBe(a.projectId);
    expect((await a.showTransfer(transfer.id)).status).toBe(404);
    expect((await b.acceptTransfer(transfer.id, transfer.auth_key)).status).toBe(404);
  });
});
