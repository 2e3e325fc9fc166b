/**
 * The two consumers our users run, on the real stack: billing's ownership
 * ledger and the audit log.
 *
 * Their query routes answer administrators' tokens only (every query here
 * sends one: ConsumerClient), while /healthz and /metrics stay open.
 *
 * First through the stack's own billing and audit processes, after
 * transfers run through the gateway. Then with processes of the test's own
 * (own SQLite file, own consumer group) over a stream the test publishes to
 * the real topics: killed with -9 mid-stream and restarted, rebuilt from the
 * beginning of the topics with the group reset and with a new group, each
 * answering exactly what the stack's consumer and the scenario say. And
 * records of an unknown type or damaged ones, which are skipped and counted
 * while the records behind them on the same partition still take effect.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { Partitioners, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ACTIONS, apiAuditRecord, CLOUD_EVENT_TYPES, type OutgoingRecord, TOPICS, transferEventRecord } from '../../libs/contracts/src/events';
import type { DiskFacts } from '../../libs/domain/src/disk';
import { ERROR_CATALOGUE } from '../../libs/domain/src/errors';
import { toCinderTimestamp } from '../../libs/domain/src/ids';
import { DEFAULT_TRANSFER_POLICY, evolveAll, initialState, type PublishedTransferEvent } from '../../libs/domain/src/transfer';
import { toBinaryModeMessage } from '../../libs/kafka/src/cloud-event-record';
import { KafkaEventPublisher } from '../../libs/kafka/src/event-publisher';
import { createKafkaClient } from '../../libs/kafka/src/kafka-client';
import { ConsumerClient, ConsumerProcess } from '../support/consumer-process';
import { testStack } from '../support/stack';
import { eventually, Tenant, uniqueProjectId } from '../support/tenants';

const stackBilling = new ConsumerClient('billing', testStack().billingUrl);
const stackAudit = new ConsumerClient('audit', testStack().auditUrl);

/** Every page of an audit query, followed through next_page_token. */
async function allAuditEvents(client: ConsumerClient, query: string, limit = 1000): Promise<any[]> {
  const events: any[] = [];
  let token: string | null = null;
  do {
    const page: { status: number; body: any } = await client.get(`/v1/events?${query}&limit=${limit}${token ? `&page_token=${token}` : ''}`);
    expect(page.status).toBe(200);
    events.push(...page.body.events);
    token = page.body.next_page_token;
  } while (token);
  return events;
}

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

/**
 * A stream in the shape the worker and the gateway publish: for each of
 * `disks` disks, a creates t1 (API record and event), m guesses a key, b
 * accepts (API record and event), b creates t2, c accepts. Times are made
 * up and distinct per disk, so the expected ledger is known exactly.
 */
function syntheticStream(projects: { a: string; b: string; c: string; m: string }, disks: number, baseMs: number) {
  const byDisk: OutgoingRecord[][] = [];
  const expected = { a: [] as unknown[], b: [] as unknown[], c: [] as unknown[] };
  const user = (projectId: string) => ({ projectId, userId: `${projectId}-user`, requestId: `req-${randomUUID()}` });
  for (let i = 0; i < disks; i++) {
    const diskId = randomUUID();
    const records: OutgoingRecord[] = [];
    byDisk.push(records);
    const at = (minute: number) => baseMs + minute * 60_000 + i;
    const transfer = (transferId: string, owner: string, createdMs: number) =>
      evolveAll(
        initialState({
          transferId,
          volumeId: diskId,
          name: null,
          owner: user(owner),
          createdAtMs: createdMs,
          authKeyHash: 'not-a-real-hash',
          policy: DEFAULT_TRANSFER_POLICY,
        }),
        [{ type: 'TransferCreated', at: createdMs, disk: { id: diskId, projectId: owner, sizeGb: 10, volumeType: 'SSD' } as DiskFacts }],
      );
    const t1 = randomUUID();
    const t2 = randomUUID();
    const s1 = transfer(t1, projects.a, at(0));
    const s2 = transfer(t2, projects.b, at(3));
    const disk = (owner: string) => ({ id: diskId, projectId: owner, sizeGb: 10, volumeType: 'SSD' }) as DiskFacts;
    const event = (state: typeof s1, e: PublishedTransferEvent) => records.push(transferEventRecord(state, e));
    const api = (action: (typeof API_ACTIONS)[keyof typeof API_ACTIONS], actor: string, transferId: string, atMs: number, status: number) =>
      records.push(
        apiAuditRecord({
          requestId: randomUUID(),
          at: atMs,
          action,
          actor: { projectId: actor, userId: `${actor}-user` },
          pathProjectId: actor,
          target: { transferId, volumeId: diskId },
          outcome: { status, code: status < 400 ? null : 'EVS.5440' },
          sourceIp: '127.0.0.1',
        }),
      );
    api(API_ACTIONS.create, projects.a, t1, at(0), 202);
    event(s1, { type: 'TransferCreated', at: at(0), disk: disk(projects.a) });
    api(API_ACTIONS.accept, projects.m, t1, at(1), 400);
    event(s1, { type: 'AcceptAttemptFailed', at: at(1), actor: user(projects.m), reason: 'InvalidAuthKey', attempt: 1 });
    api(API_ACTIONS.accept, projects.b, t1, at(2), 202);
    event(s1, { type: 'TransferAccepted', at: at(2), recipient: user(projects.b), disk: disk(projects.b) });
    event(s2, { type: 'TransferCreated', at: at(3), disk: disk(projects.b) });
    event(s2, { type: 'TransferAccepted', at: at(4), recipient: user(projects.c), disk: disk(projects.c) });

    const time = (ms: number) => iso(toCinderTimestamp(ms));
    const interval = (project: string, from: number, to: number | null, startedBy: string | null, endedBy: string | null) => ({
      disk_id: diskId,
      project_id: project,
      from: time(from),
      to: to === null ? null : time(to),
      started_by_transfer_id: startedBy,
      ended_by_transfer_id: endedBy,
    });
    expected.a.push(interval(projects.a, at(0), at(2), null, t1));
    expected.b.push(interval(projects.b, at(2), at(4), t1, t2));
    expected.c.push(interval(projects.c, at(4), null, t2, null));
  }
  return { byDisk, records: byDisk.flat(), expected };
}

/*
 * These processes rebuild from the beginning of the topics, so they take as
 * long as the run has published: in npm test's first pass, everything before
 * them (90 s of API fuzzing among it). npm test runs them in its second pass,
 * on a stack whose topics are young, and EVS_TEST_OWN_CONSUMERS=0 skips them
 * in the first. Their ledgers are SQLite files of their own whatever the
 * stack's stores are.
 */
describe.skipIf(process.env.EVS_TEST_OWN_CONSUMERS === '0')('consumers of the test’s own: kill -9, restart, replay, and records they cannot use', () => {
  const DISKS = 1000;
  /** Disks per publish: the stream flows in slices. */
  const DISKS_PER_SLICE = 50;
  const newProjects = () => ({ a: uniqueProjectId('syn-a'), b: uniqueProjectId('syn-b'), c: uniqueProjectId('syn-c'), m: uniqueProjectId('syn-m') });
  let dir: string;
  let publisher: KafkaEventPublisher;
  let producer: Producer;
  const started: ConsumerProcess[] = [];
  const start = async (app: 'billing' | 'audit', groupId: string, dbName: string = app) => {
    const p = await ConsumerProcess.start(app, { dir, groupId, dbPath: path.join(dir, `${dbName}.sqlite`) });
    started.push(p);
    return p;
  };

  /**
   * Publishes the stream in slices while `consumer` consumes it: half of
   * it, then (once `tookEffect` shows the consumer has applied some of it)
   * one more slice, and kill -9 at once, while that slice is arriving;
   * then the rest, with the consumer dead.
   */
  async function publishKillingMidway(byDisk: readonly OutgoingRecord[][], consumer: ConsumerProcess, tookEffect: () => Promise<boolean>): Promise<void> {
    const slices: OutgoingRecord[][] = [];
    for (let i = 0; i < byDisk.length; i += DISKS_PER_SLICE) slices.push(byDisk.slice(i, i + DISKS_PER_SLICE).flat());
    const half = Math.floor(slices.length / 2);
    for (const slice of slices.slice(0, half)) await publisher.publish(slice);
    await eventually(tookEffect, 60_000);
    await publisher.publish(slices[half]);
    await consumer.kill();
    for (const slice of slices.slice(half + 1)) await publisher.publish(slice);
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evs-consumers-'));
    const { kafkaBrokers } = testStack();
    publisher = new KafkaEventPublisher({ brokers: kafkaBrokers, clientId: 'evs-test-consumers', logLevel: 'warn' });
    // The publisher's partitioner, so a disk's raw records share its partition with its well-formed ones.
    producer = createKafkaClient({ brokers: kafkaBrokers, clientId: 'evs-test-raw', logger: new Logger('RawProducer'), logLevel: 'warn' }).producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
  });
  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
    await publisher?.disconnect();
    await producer?.disconnect();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const ledgerOf = async (client: ConsumerClient, project: string) => (await client.get(`/v1/projects/${project}/ownership`)).body.intervals;

  it('billing killed with -9 mid-stream and restarted on its file and group ends with the ledger the scenario and the stack’s billing give', async () => {
    const projects = newProjects();
    const stream = syntheticStream(projects, DISKS, Date.UTC(2026, 0, 1));
    const groupId = `evs-test-billing-${randomUUID()}`;
    const first = await start('billing', groupId);
    let partial = 0;
    await publishKillingMidway(stream.byDisk, first, async () => {
      partial = (await ledgerOf(first, projects.b)).length;
      return partial > 0;
    });
    // When it was killed, the ledger had only part of the stream.
    expect(partial).toBeLessThan(DISKS);

    const second = await first.restart();
    started.push(second);
    await second.caughtUp();
    for (const key of ['a', 'b', 'c'] as const) {
      expect(await ledgerOf(second, projects[key])).toEqual(stream.expected[key]);
    }
    await stackBilling.caughtUp();
    expect(await ledgerOf(stackBilling, projects.b)).toEqual(stream.expected.b);

    // Replay with the same file: the group reset to the beginning, every event comes again and changes nothing.
    await second.stop();
    const admin = createKafkaClient({ brokers: testStack().kafkaBrokers, clientId: 'evs-test-admin', logger: new Logger('Admin'), logLevel: 'warn' }).admin();
    await admin.connect();
    try {
      await admin.resetOffsets({ groupId, topic: TOPICS.lifecycle, earliest: true });
    } finally {
      await admin.disconnect();
    }
    const replayed = await second.restart();
    started.push(replayed);
    await replayed.caughtUp();
    const lifecycleCount = stream.records.filter((r) => r.topic === TOPICS.lifecycle).length;
    expect((await replayed.metrics()).since_start.duplicates).toBeGreaterThanOrEqual(lifecycleCount);
    for (const key of ['a', 'b', 'c'] as const) {
      expect(await ledgerOf(replayed, projects[key])).toEqual(stream.expected[key]);
    }

    // Rebuilt from nothing: a new file and a new group.
    const rebuilt = await start('billing', `evs-test-billing-${randomUUID()}`, 'billing-rebuilt');
    await rebuilt.caughtUp();
    for (const key of ['a', 'b', 'c'] as const) {
      expect(await ledgerOf(rebuilt, projects[key])).toEqual(stream.expected[key]);
    }
  });

  it('audit killed with -9 mid-stream and restarted keeps every event once, and a rebuild from the beginning pages identically', async () => {
    const projects = newProjects();
    const stream = syntheticStream(projects, DISKS, Date.UTC(2026, 0, 2));
    const first = await start('audit', `evs-test-audit-${randomUUID()}`);
    let partial = 0;
    await publishKillingMidway(stream.byDisk, first, async () => {
      partial = (await allAuditEvents(first, `project_id=${projects.b}`)).length;
      return partial > 0;
    });
    expect(partial).toBeLessThan(DISKS * 4);
    const second = await first.restart();
    started.push(second);
    await second.caughtUp();

    // b: recipient of each t1 (event and API record), creator and owner of each t2.
    const ofB = await allAuditEvents(second, `project_id=${projects.b}`);
    expect(ofB).toHaveLength(DISKS * 4);
    expect(new Set(ofB.map((e) => e.id)).size).toBe(DISKS * 4);
    const ofM = await allAuditEvents(second, `project_id=${projects.m}`);
    expect(ofM.map((e) => e.type).sort()).toEqual(
      [...Array<string>(DISKS).fill(CLOUD_EVENT_TYPES.ApiCallAudited), ...Array<string>(DISKS).fill(CLOUD_EVENT_TYPES.AcceptAttemptFailed)].sort(),
    );

    const rebuilt = await start('audit', `evs-test-audit-${randomUUID()}`, 'audit-rebuilt');
    await rebuilt.caughtUp();
    await stackAudit.caughtUp();
    for (const project of [projects.a, projects.b, projects.m]) {
      const pages = await allAuditEvents(second, `project_id=${project}`, 500);
      expect(await allAuditEvents(rebuilt, `project_id=${project}`, 500)).toEqual(pages);
      expect(await allAuditEvents(stackAudit, `project_id=${project}`, 500)).toEqual(pages);
    }
  });

  it('skips and counts an unknown type and damaged records, and still applies what follows them on the partition', async () => {
    const billing = await start('billing', `evs-test-billing-${randomUUID()}`, 'billing-skips');
    const audit = await start('audit', `evs-test-audit-${randomUUID()}`, 'audit-skips');
    await Promise.all([billing.caughtUp(), audit.caughtUp(), stackBilling.caughtUp(), stackAudit.caughtUp()]);
    const before = await Promise.all([billing, audit, stackBilling, stackAudit].map((c) => c.metrics()));

    // One disk's records, all keyed by it so they share a partition: created,
    // then the trouble, then the acceptance that must still take effect.
    const tail = syntheticStream(newProjects(), 1, Date.UTC(2026, 1, 1));
    const lifecycle = tail.records.filter((r) => r.topic === TOPICS.lifecycle);
    const [created1, accepted1] = [lifecycle[0], lifecycle[1]];
    const diskId = created1.key;
    const raw = (record: OutgoingRecord) => toBinaryModeMessage(record);
    const newer = raw({ ...accepted1, event: { ...accepted1.event, id: `${accepted1.event.id}/v2`, type: 'com.huaweicloud.evs.transfer.accepted.v2' } });
    const notJson = { ...raw(accepted1), value: '{"transfer_id": ' };
    const noHeaders = { key: diskId, value: JSON.stringify(accepted1.event.data) };
    const missingField = raw({
      ...accepted1,
      event: { ...accepted1.event, id: `${accepted1.event.id}/broken`, data: { ...(accepted1.event.data as object), destination_project_id: undefined } },
    });
    await publisher.publish([created1]);
    await producer.send({ topic: TOPICS.lifecycle, messages: [newer, notJson, noHeaders, missingField] });
    await producer.send({ topic: TOPICS.apiAudit, messages: [{ key: diskId, value: 'not an event at all' }] });
    await publisher.publish([accepted1]);

    // What follows the trouble took effect in each of them.
    for (const client of [billing, stackBilling]) {
      const ledger = await eventually(async () => {
        const res = await client.get(`/v1/disks/${diskId}/ownership`);
        return res.status === 200 && res.body.intervals.length === 2 ? res.body.intervals : null;
      }, 30_000);
      expect(ledger.map((i: any) => i.project_id)).toEqual([tail.expected.a[0], tail.expected.b[0]].map((i: any) => i.project_id));
    }
    for (const client of [audit, stackAudit]) {
      await eventually(async () => (await allAuditEvents(client, `transfer_id=${(accepted1.event.data as { transfer_id: string }).transfer_id}&type=${CLOUD_EVENT_TYPES.TransferAccepted}`)).length === 1, 30_000);
    }

    // Counted, and the processes still serve.
    const after = await Promise.all([billing, audit, stackBilling, stackAudit].map((c) => c.metrics()));
    const delta = (i: number) => ({
      unknown: after[i].since_start.skipped.unknown - before[i].since_start.skipped.unknown,
      malformed: after[i].since_start.skipped.malformed - before[i].since_start.skipped.malformed,
      dead_letters: after[i].stored.dead_letters.unknown + after[i].stored.dead_letters.malformed - before[i].stored.dead_letters.unknown - before[i].stored.dead_letters.malformed,
    });
    // billing reads the lifecycle topic: 1 unknown, 3 damaged; audit also the API audit topic: 1 more damaged.
    expect(delta(0)).toEqual({ unknown: 1, malformed: 3, dead_letters: 4 });
    expect(delta(1)).toEqual({ unknown: 1, malformed: 4, dead_letters: 5 });
    expect(delta(2)).toEqual({ unknown: 1, malformed: 3, dead_letters: 4 });
    expect(delta(3)).toEqual({ unknown: 1, malformed: 4, dead_letters: 5 });
    for (const client of [billing, audit, stackBilling, stackAudit]) {
      expect((await client.get('/healthz')).status).toBe(200);
    }
  });
});
