/**
 * The two consumers our users run, as processes of the test's own (own
 * SQLite file, own consumer group) over a stream the test publishes to the
 * stack's real topics: killed with -9 mid-stream and restarted, rebuilt from
 * the beginning of the topics with a new group, each answering exactly what
 * the stack's consumer and the scenario say. And records of an unknown type
 * or damaged ones, which are skipped and counted while the records behind
 * them on the same partition still take effect.
 *
 * A rebuild reads every record the run has published, so npm test runs this
 * file in its second pass, whose topics are young (test/support/passes.ts).
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
import { toCinderTimestamp } from '../../libs/domain/src/ids';
import { DEFAULT_TRANSFER_POLICY, evolveAll, initialState, type PublishedTransferEvent } from '../../libs/domain/src/transfer';
import { toBinaryModeMessage } from '../../libs/kafka/src/cloud-event-record';
import { KafkaEventPublisher } from '../../libs/kafka/src/event-publisher';
import { createKafkaClient } from '../../libs/kafka/src/kafka-client';
import { allAuditEvents, ConsumerClient, ConsumerProcess } from '../support/consumer-process';
import { SECOND_PASS_ONLY } from '../support/passes';
import { testStack } from '../support/stack';
import { eventually, uniqueProjectId } from '../support/tenants';

const stackBilling = new ConsumerClient('billing', testStack().billingUrl);
const stackAudit = new ConsumerClient('audit', testStack().auditUrl);

/** A Cinder timestamp as the ISO instant the consumers answer with. */
const iso = (cinder: string) => `${cinder.slice(0, 23)}Z`;

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

describe.skipIf(SECOND_PASS_ONLY)('consumers of the test’s own: kill -9, restart, replay, and records they cannot use', () => {
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
