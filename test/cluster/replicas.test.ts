/**
 * The cluster topology through its balancer and straight at each gateway:
 * what one gateway guarantees must hold across two, because every limit and
 * every record lives in the database they share, never in a process.
 */
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../libs/domain/src/errors';
import { clusterEnv, clusterTopology } from '../support/cluster';
import { signRequest } from '../support/sdk-signer';
import { ROOT_DIR } from '../support/stack';
import { type ApiAnswer, eventually, Tenant } from '../support/tenants';

const topology = clusterTopology();
const [gateway1, gateway2] = topology.gatewayUrls;

async function tenant(label: string, baseUrl = topology.apiUrl): Promise<Tenant> {
  return Tenant.create(label, { baseUrl, inventoryUrl: topology.inventoryUrl, auth: topology.auth });
}

/** Sends exactly these bytes and headers (Host included) to one gateway, as a replayed capture would be. */
function rawSend(baseUrl: string, method: string, path: string, headers: Record<string, string>, body: string): Promise<ApiAnswer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: new Headers(), body: text ? JSON.parse(text) : null });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const run = promisify(execFile);
async function createAccessKey(projectId: string): Promise<{ accessKeyId: string; secretKey: string }> {
  const { stdout } = await run('bash', ['infra/run-script.sh', 'access-keys', 'create', '--project', projectId, '--user', 'signer'], {
    cwd: ROOT_DIR,
    env: clusterEnv(),
    timeout: 30_000,
  });
  const created = JSON.parse(stdout) as { access_key: string; secret_key: string };
  return { accessKeyId: created.access_key, secretKey: created.secret_key };
}

describe('two gateways behind one balancer', () => {
  it('runs the seed procedure with its steps spread over both gateways', async () => {
    const ownerVia1 = await tenant('owner', gateway1);
    const ownerVia2 = ownerVia1.via(gateway2);
    const recipientVia2 = (await tenant('recipient', gateway2)).via(gateway2);
    const disk = await ownerVia1.createDisk({ size: 20 });

    const created = await ownerVia1.createTransfer(disk.id, 'spread');
    expect(created.status).toBe(202);
    const { id, auth_key: authKey } = created.body.transfer as { id: string; auth_key: string };

    // Written by a worker on one host, read by the other gateway.
    const shown = await eventually(async () => {
      const answer = await ownerVia2.showTransfer(id);
      return answer.status === 200 ? answer : null;
    });
    expect(shown.body.transfer).toMatchObject({ id, volume_id: disk.id, name: 'spread' });
    expect((await ownerVia1.listTransfers()).body.transfers.map((t: { id: string }) => t.id)).toContain(id);
    expect((await ownerVia2.listTransfers({ detail: true })).body.transfers.map((t: { id: string }) => t.id)).toContain(id);
    expect((await ownerVia1.disk(disk.id))?.status).toBe('awaiting-transfer');

    expect((await recipientVia2.acceptTransfer(id, authKey)).status).toBe(202);
    expect(await recipientVia2.disk(disk.id)).toMatchObject({ status: 'available' });
    expect(await ownerVia1.disk(disk.id)).toBeNull();
    expect((await ownerVia1.showTransfer(id)).status).toBe(404);

    // And a delete, through the balancer this time.
    const owner = await tenant('owner-b');
    const pending = await owner.pendingTransfer();
    await eventually(async () => (await owner.showTransfer(pending.transfer.id)).status === 200);
    expect((await owner.deleteTransfer(pending.transfer.id)).status).toBe(202);
    expect(await owner.disk(pending.disk.id)).toMatchObject({ status: 'available' });
  });

  it('grants a project the same budget of wrong accepts whichever gateway each lands on', async () => {
    const guesser = await tenant('guesser');
    const [via1, via2] = [guesser.via(gateway1), guesser.via(gateway2)];
    const maxFailures = 20; // ACCEPT_CALLER_MAX_FAILURES's default
    const statuses: number[] = [];
    for (let i = 0; i < maxFailures; i++) {
      const answer = await (i % 2 === 0 ? via1 : via2).acceptTransfer(crypto.randomUUID(), 'not-the-key-0000');
      statuses.push(answer.status);
    }
    expect(statuses.every((s) => s === 404)).toBe(true);
    for (const via of [via1, via2]) {
      const limited = await via.acceptTransfer(crypto.randomUUID(), 'not-the-key-0000');
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe(ERROR_CATALOGUE.CallerRateLimited.code);
    }
    // Another project is untouched.
    expect((await (await tenant('bystander', gateway2)).acceptTransfer(crypto.randomUUID(), 'not-the-key-0000')).status).toBe(404);
  });

  it('refuses a captured AK/SK request replayed to the other gateway', async () => {
    const owner = await tenant('signer');
    const key = await createAccessKey(owner.projectId);
    const disk = await owner.createDisk();
    const path = `/v2/${owner.projectId}/os-volume-transfer`;
    const body = JSON.stringify({ transfer: { volume_id: disk.id, name: 'signed' } });
    // Signed for the balancer's address, as the client sent it; the capture is then sent to each gateway.
    const headers = signRequest({
      method: 'POST',
      url: `${topology.apiUrl}${path}`,
      key,
      body,
      headers: { 'content-type': 'application/json', 'x-project-id': owner.projectId },
    });
    const first = await rawSend(gateway1, 'POST', path, headers, body);
    expect(first.status).toBe(202);
    const replayed = await rawSend(gateway2, 'POST', path, headers, body);
    expect(replayed.status).toBe(401);
    expect(replayed.body.error.code).toBe(ERROR_CATALOGUE.Unauthenticated.code);
    // Not the gateway refusing signatures: a fresh one is accepted there.
    const fresh = signRequest({ method: 'GET', url: `${topology.apiUrl}${path}`, key, headers: { 'x-project-id': owner.projectId } });
    expect((await rawSend(gateway2, 'GET', path, fresh, '')).status).toBe(200);
  });

  it('gives exactly one success to 20 concurrent accepts of one transfer spread over both gateways', async () => {
    const owner = await tenant('race-owner');
    const { disk, transfer } = await owner.pendingTransfer();
    const bidders = await Promise.all(Array.from({ length: 20 }, (_, i) => tenant(`bidder${i}`, i % 2 === 0 ? gateway1 : gateway2)));
    const answers = await Promise.all(bidders.map((b) => b.acceptTransfer(transfer.id, transfer.auth_key)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 202), `answers: ${statuses.join(' ')}`).toHaveLength(1);
    expect(statuses.filter((s) => s >= 500), `answers: ${statuses.join(' ')}`).toHaveLength(0);
    const winner = bidders[statuses.indexOf(202)];
    expect(await winner.disk(disk.id)).toMatchObject({ status: 'available' });
    for (const loser of bidders.filter((b) => b !== winner)) expect(await loser.disk(disk.id)).toBeNull();
  });
});
