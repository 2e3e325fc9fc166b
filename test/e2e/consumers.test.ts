/**
 * The two consumers our users run, on the real stack: billing's ownership
 * ledger and the audit log, after transfers run through the gateway.
 *
 * Their query routes answer administrators' tokens only (every query here
 * sends one: ConsumerClient), while /healthz and /metrics stay open.
 * consumer-processes.test.ts kills, restarts and rebuilds consumers of its
 * own against the same topics.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { API_ACTIONS, CLOUD_EVENT_TYPES, TOPICS } from '../../libs/contracts/src/events';
import { ERROR_CATALOGUE } from '../../libs/domain/src/errors';
import { allAuditEvents, ConsumerClient } from '../support/consumer-process';
import { testStack } from '../support/stack';
import { eventually, Tenant } from '../support/tenants';

const stackBilling = new ConsumerClient('billing', testStack().billingUrl);
const stackAudit = new ConsumerClient('audit', testStack().auditUrl);

const iso = (cinder: string) => `${cinder.slice(0, 23)}Z`;

describe('who may ask the stack’s billing and audit', () => {
  it('an administrator’s token only: 401 without a valid token, 403 to a tenant’s, while /healthz and /metrics stay open', async () => {
    const tenant = await Tenant.create('cons-q');
    const reader = await tenant.withRoles(['reader']);
    const tenantAdmin = await tenant.withRoles(['admin']);
    // The tenant's own token with `admin` written into its claims: the signature no longer holds.
    const [header, payload, signature] = tenant.token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const elevated = [header, Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] }), 'utf8').toString('base64url'), signature].join('.');

    const routes: [ConsumerClient, string, number][] = [
      [stackBilling, `/v1/projects/${tenant.projectId}/ownership`, 200],
      [stackBilling, `/v1/disks/${randomUUID()}/ownership`, 404],
      [stackAudit, `/v1/events?project_id=${tenant.projectId}`, 200],
    ];
    for (const [client, route, answered] of routes) {
      const what = `${client.app} ${route}`;
      for (const token of [null, 'not-a-token', elevated]) {
        const refused = await client.get(route, { token });
        expect(refused.status, `${what} with ${token === null ? 'no token' : token.slice(0, 12)}`).toBe(401);
        expect(refused.body).toEqual({ error: { code: ERROR_CATALOGUE.Unauthenticated.code, message: expect.any(String) } });
      }
      // A tenant's member and reader: valid tokens, without the role.
      for (const who of [tenant, reader]) {
        const refused = await client.get(route, { token: who.token });
        expect(refused.status, `${what} as ${who.userId}`).toBe(403);
        expect(refused.body).toEqual({ error: { code: ERROR_CATALOGUE.Forbidden.code, message: expect.stringMatching(/admin/) } });
      }
      // An administrator of any project, the operators' own (ConsumerClient's default) or a tenant's.
      expect((await client.get(route)).status, what).toBe(answered);
      expect((await client.get(route, { token: tenantAdmin.token })).status, what).toBe(answered);
    }
    for (const client of [stackBilling, stackAudit]) {
      expect((await client.get('/healthz', { token: null })).status, `${client.app} /healthz`).toBe(200);
      expect((await client.get('/metrics', { token: null })).status, `${client.app} /metrics`).toBe(200);
    }
  });
});

describe('the stack’s billing and audit, after transfers through the gateway', () => {
  it('billing knows who owned each disk when, and audit has every step, each findable by project, disk, transfer, actor and time', async () => {
    const a = await Tenant.create('cons-a');
    const b = await Tenant.create('cons-b');
    const c = await Tenant.create('cons-c');
    const m = await Tenant.create('cons-m');

    // Disk 1 goes a → b → c; m guesses a key on the way.
    const disk1 = await a.createDisk({ size: 30, volume_type: 'SSD' });
    const t1 = (await a.createTransfer(disk1.id)).body.transfer;
    expect((await m.acceptTransfer(t1.id, '0000000000000000')).status).toBe(400);
    expect((await b.acceptTransfer(t1.id, t1.auth_key)).status).toBe(202);
    const t2 = (await b.createTransfer(disk1.id)).body.transfer;
    expect((await c.acceptTransfer(t2.id, t2.auth_key)).status).toBe(202);
    // Disk 2 stays a's: its transfer is deleted.
    const disk2 = await a.createDisk();
    const t3 = (await a.createTransfer(disk2.id)).body.transfer;
    expect((await a.deleteTransfer(t3.id)).status).toBe(202);

    // The audit log has both acceptances, with the times they happened.
    const accepted = await eventually(async () => {
      const found = await allAuditEvents(stackAudit, `disk_id=${disk1.id}&type=${CLOUD_EVENT_TYPES.TransferAccepted}`);
      return found.length === 2 ? found : null;
    }, 30_000);
    const [at1, at2] = accepted.map((e) => iso(e.data.accepted_at as string));
    const created1 = iso((await allAuditEvents(stackAudit, `transfer_id=${t1.id}&type=${CLOUD_EVENT_TYPES.TransferCreated}`))[0].data.created_at);
    const created3 = iso((await allAuditEvents(stackAudit, `transfer_id=${t3.id}&type=${CLOUD_EVENT_TYPES.TransferCreated}`))[0].data.created_at);

    // Billing: the same moments, handed over by the same transfers.
    const ledger1 = await eventually(async () => {
      const res = await stackBilling.get(`/v1/disks/${disk1.id}/ownership`);
      return res.status === 200 && res.body.intervals.length === 3 ? res.body : null;
    }, 30_000);
    expect(ledger1.intervals).toEqual([
      { disk_id: disk1.id, project_id: a.projectId, from: created1, to: at1, started_by_transfer_id: null, ended_by_transfer_id: t1.id },
      { disk_id: disk1.id, project_id: b.projectId, from: at1, to: at2, started_by_transfer_id: t1.id, ended_by_transfer_id: t2.id },
      { disk_id: disk1.id, project_id: c.projectId, from: at2, to: null, started_by_transfer_id: t2.id, ended_by_transfer_id: null },
    ]);
    const ledger2 = await eventually(async () => {
      const res = await stackBilling.get(`/v1/disks/${disk2.id}/ownership`);
      return res.status === 200 ? res.body : null;
    }, 30_000);
    expect(ledger2.intervals).toEqual([
      { disk_id: disk2.id, project_id: a.projectId, from: created3, to: null, started_by_transfer_id: null, ended_by_transfer_id: null },
    ]);

    // A project's intervals overlapping a range: b held disk 1 over [at1, at2).
    const owned = async (project: Tenant, query: string) =>
      (await stackBilling.get(`/v1/projects/${project.projectId}/ownership${query}`)).body.intervals.map((i: any) => i.disk_id);
    expect(await owned(b, '')).toEqual([disk1.id]);
    expect(await owned(b, `?to=${at1}`)).toEqual([]);
    expect(await owned(b, `?from=${at2}`)).toEqual([]);
    expect(await owned(b, `?from=${at1}&to=${at2}`)).toEqual([disk1.id]);
    expect(await owned(a, `?from=${at2}`)).toEqual([disk2.id]);
    expect(await owned(m, '')).toEqual([]);
    expect((await stackBilling.get(`/v1/projects/${b.projectId}/ownership?from=yesterday`)).status).toBe(400);
    expect((await stackBilling.get(`/v1/disks/${randomUUID()}/ownership`)).status).toBe(404);

    // Audit: every step of transfer 1, from the three topics, oldest first.
    const steps1 = await eventually(async () => {
      const found = await allAuditEvents(stackAudit, `transfer_id=${t1.id}`);
      return found.length === 6 ? found : null;
    }, 30_000);
    expect(steps1.map((e) => [e.topic, e.type === CLOUD_EVENT_TYPES.ApiCallAudited ? e.data.action : e.type, e.actor.project_id]).sort()).toEqual(
      [
        [TOPICS.apiAudit, API_ACTIONS.create, a.projectId],
        [TOPICS.apiAudit, API_ACTIONS.accept, m.projectId],
        [TOPICS.apiAudit, API_ACTIONS.accept, b.projectId],
        [TOPICS.lifecycle, CLOUD_EVENT_TYPES.TransferCreated, a.projectId],
        [TOPICS.lifecycle, CLOUD_EVENT_TYPES.TransferAccepted, b.projectId],
        [TOPICS.securityAudit, CLOUD_EVENT_TYPES.AcceptAttemptFailed, m.projectId],
      ].sort(),
    );
    const times = steps1.map((e) => e.time as string);
    expect(times).toEqual([...times].sort());

    // By project, in any role: m only tried; b received disk 1 and passed it on.
    const ofM = await allAuditEvents(stackAudit, `project_id=${m.projectId}`);
    expect(ofM.map((e) => e.type).sort()).toEqual([CLOUD_EVENT_TYPES.ApiCallAudited, CLOUD_EVENT_TYPES.AcceptAttemptFailed].sort());
    const ofB = await eventually(async () => {
      const found = await allAuditEvents(stackAudit, `project_id=${b.projectId}&disk_id=${disk1.id}`);
      return found.length === 5 ? found : null;
    }, 30_000);
    expect(ofB.map((e) => (e.topic === TOPICS.apiAudit ? e.data.action : e.id)).sort()).toEqual(
      [`${t1.id}/accepted`, `${t2.id}/created`, `${t2.id}/accepted`, API_ACTIONS.accept, API_ACTIONS.create].sort(),
    );
    // By actor: the user who guessed.
    expect((await allAuditEvents(stackAudit, `actor_project_id=${m.projectId}&actor_user_id=${m.userId}`)).map((e) => e.transfer_id)).toEqual([t1.id, t1.id]);

    // By time: disk 1's events in [created1, at1) are t1's creation and m's attempt, not the acceptance.
    const before = await allAuditEvents(stackAudit, `disk_id=${disk1.id}&from=${created1}&to=${at1}`);
    expect(before.map((e) => e.id)).toEqual(expect.arrayContaining([`${t1.id}/created`, `${t1.id}/accept_failed/1`]));
    expect(before.every((e) => e.time >= created1 && e.time < at1)).toBe(true);
    expect(before.map((e) => e.type)).not.toContain(CLOUD_EVENT_TYPES.TransferAccepted);

    // Pages of two give what one page gives.
    expect(await allAuditEvents(stackAudit, `project_id=${b.projectId}`, 2)).toEqual(await allAuditEvents(stackAudit, `project_id=${b.projectId}`));
    expect((await stackAudit.get('/v1/events?page_token=forged')).status).toBe(400);
    expect((await stackAudit.get('/v1/events?limit=5000')).status).toBe(400);
  });
});
