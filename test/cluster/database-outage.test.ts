/**
 * The shared database going away and coming back, and a database the
 * service cannot use at all: what a process does in each case.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../libs/domain/src/errors';
import { clusterEnv, clusterTopology, startPostgres, stopPostgres } from '../support/cluster';
import { ROOT_DIR } from '../support/stack';
import { eventually, Tenant } from '../support/tenants';

const topology = clusterTopology();
/** The data folder of the gateways started with a database they cannot use. */
const MISCONFIGURED_DATA_DIR = `${ROOT_DIR}/.data/cluster-test-misconfigured`;
const tenant = (label: string) => Tenant.create(label, { baseUrl: topology.apiUrl, inventoryUrl: topology.inventoryUrl, auth: topology.auth });

/** Starts one gateway process with these settings and waits for it to exit. */
function gatewayExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', ['dist/apps/gateway/src/main.js'], {
      cwd: ROOT_DIR,
      env: clusterEnv({ DATA_DIR: MISCONFIGURED_DATA_DIR, GATEWAY_HOST: '127.0.0.49', ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

describe('the shared database', () => {
  afterAll(async () => {
    await startPostgres();
    fs.rmSync(MISCONFIGURED_DATA_DIR, { recursive: true, force: true });
  });

  it('away: API calls answer 503 with the catalogue body; back: they succeed again without a restart, and nothing accepted is lost', async () => {
    const owner = await tenant('outage-owner');
    const recipient = await tenant('outage-recipient');
    const { disk, transfer } = await owner.pendingTransfer();
    await eventually(async () => (await owner.showTransfer(transfer.id)).status === 200);

    await stopPostgres();
    const [shown, listed] = await Promise.all([owner.showTransfer(transfer.id), owner.listTransfers()]);
    for (const answer of [shown, listed]) {
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({ error: { code: ERROR_CATALOGUE.DependencyUnavailable.code, message: expect.any(String) } });
    }

    await startPostgres();
    const back = await eventually(async () => {
      const answer = await owner.showTransfer(transfer.id);
      return answer.status === 200 ? answer : null;
    }, 30_000);
    expect(back.body.transfer.id).toBe(transfer.id);
    const accepted = await eventually(async () => {
      const answer = await recipient.acceptTransfer(transfer.id, transfer.auth_key);
      return answer.status === 202 ? answer : null;
    }, 30_000);
    expect(accepted.status).toBe(202);
    expect(await recipient.disk(disk.id)).toMatchObject({ status: 'available' });
    await eventually(async () => (await owner.showTransfer(transfer.id)).status === 404);
  });

  it('unreachable at start: the process stops with one line naming the store, without its password', async () => {
    const { code, stderr, stdout } = await gatewayExit({ DATABASE_URL: 'postgres://evs:hunter2@127.0.0.1:1/evs' });
    expect(code).toBe(1);
    const lines = `${stdout}${stderr}`.split('\n').filter((l) => l.includes('cannot start'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot start: \w+ store \(PostgreSQL postgres:\/\/evs:\*\*\*@127\.0\.0\.1:1\/evs \(schema \w+\)\): .*ECONNREFUSED/);
    expect(`${stdout}${stderr}`).not.toContain('hunter2');
    expect(`${stdout}${stderr}`).not.toMatch(/^\s+at /m);
  });

  it('a URL of no database we speak: the process stops with one line naming the variable', async () => {
    const { code, stderr, stdout } = await gatewayExit({ DATABASE_URL: 'mysql://evs@127.0.0.1/evs' });
    expect(code).toBe(1);
    // One JSON log line at fatal, its message naming the variable; no stack.
    const fatal = `${stdout}${stderr}`
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string; err?: unknown })
      .filter((line) => line.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0].msg).toMatch(/DATABASE_URL: unsupported scheme "mysql:"/);
    expect(fatal[0].err).toBeUndefined();
    expect(`${stdout}${stderr}`).not.toMatch(/^\s+at /m);
  });
});
