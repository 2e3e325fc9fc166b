/**
 * lifecycle.md: "Everything survives a crash or restart of any single
 * process (gateway, worker, inventory, Temporal server, Kafka broker) at any
 * moment: the transfer resumes and ends exactly once, no event is lost, and
 * the disk is never owned by both or neither." And: "Exactly one terminal
 * outcome per transfer, whatever races."
 *
 * Each fault is injected into real processes of a stack of this file's own
 * (the test ports plus 10000, the test data folder with -faults appended):
 * kill -9 of a pid, a stop and start through the infra scripts, SIGSTOP of a
 * process so a call to it hangs, a write lock held on the read model's
 * SQLite file so a step cannot finish. The last two only hold a window open
 * long enough to kill something inside it; nothing is mocked.
 *
 * Every fault runs EVS_FAULT_REPETITIONS times (default 2; a soak run sets
 * more). Each case checks what its client notices (answers, show, list, the
 * disk's owner), and after each repetition the ledger
 * (test/support/fault-ledger.ts) reads Temporal, Kafka, the inventory and
 * the read model and counts what was lost, duplicated or inconsistent. The
 * table is printed at the end and written as JSON beside the test stack's
 * data (faults-report.json); any non-zero count fails the run.
 *
 *   EVS_FAULT_REPETITIONS=10 EVS_FAULT_KAFKA_OUTAGE_SECONDS=60 npm run test:faults   # a soak run
 */
import { Client as PgClient } from 'pg';
import { sqliteFileOf } from '../../libs/database/src/database-url';
import * as http from 'node:http';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuditOutbox } from '../../apps/gateway/src/audit/audit-outbox';
import { TOPICS } from '../../libs/contracts/src/events';
import { TransferReadModel } from '../../libs/read-model/src/transfer-read-model';
import type { InventoryClient } from '../../libs/inventory-client/src/inventory.client';
import type { TransferStatus } from '../../libs/domain/src/transfer';
import { SEARCH_ATTRIBUTES, transferViewQuery, transferWorkflowId } from '../../libs/temporal/src/transfer.definitions';
import { type Allowed, FaultLedger } from '../support/fault-ledger';
import { harnessInventory } from '../support/inventory';
import { KafkaCollector } from '../support/kafka-collector';
import { type ExtraApp, FAULTS_STACK, PrivateStack, sparePort, waitUntil } from '../support/private-stack';
import { resolveTestEnv } from '../support/stack';
import type { ApiAnswer, PendingTransfer, Tenant } from '../support/tenants';

function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not ${raw}`);
  return value;
}

const REPETITIONS = setting('EVS_FAULT_REPETITIONS', 2);
const KAFKA_OUTAGE_SECONDS = setting('EVS_FAULT_KAFKA_OUTAGE_SECONDS', 30);
const BIDDERS = 20;
const REPS = Array.from({ length: REPETITIONS }, (_, i) => i + 1);

/** Create's validation bound on this stack (the default is 20 s): a 503 within seconds, not twenty. */
const VALIDATION_TIMEOUT_SECONDS = 5;
/** The time to live of the second gateway's transfers, for expiries within a case. */
const SHORT_TTL_SECONDS = 4;
const stack = new PrivateStack({ ...FAULTS_STACK, env: { TRANSFER_VALIDATION_TIMEOUT_SECONDS: String(VALIDATION_TIMEOUT_SECONDS) } });
const GATEWAY_DEADLINE_MS = stack.config().gateway.updateTimeoutMs;
const TOPICS_WATCHED = [TOPICS.lifecycle, TOPICS.securityAudit, TOPICS.apiAudit];
const REPORT_FILE = path.join(resolveTestEnv(process.env).DATA_DIR ?? '.', 'faults-report.json');

const FAULTS = {
  workerIdle: 'worker kill -9: transfers pending, a create sent while it is down',
  workerLocked: 'worker kill -9: disk locked, transfer not yet pending',
  workerReassign: 'worker kill -9: during the reassign',
  workerPublish: 'worker kill -9: disk reassigned, event not yet published',
  temporal: 'Temporal stopped and restarted (SQLite kept), transfers pending',
  kafka: `Kafka stopped ${KAFKA_OUTAGE_SECONDS} s while transfers change; gateway and worker kill -9 with records unsent`,
  inventory: 'inventory stopped during a create and during an accept',
  gatewayCreateSent: 'gateway kill -9: create (Idempotency-Key) sent',
  gatewayCreateValidating: 'gateway kill -9: create (Idempotency-Key), workflow started, disk not yet locked',
  gatewayCreateLocked: 'gateway kill -9: create (Idempotency-Key), disk locked, not yet answered',
  gatewayAcceptSent: 'gateway kill -9: accept sent',
  gatewayAcceptAdmitted: 'gateway kill -9: accept admitted, disk moving',
  raceBidders: `race: ${BIDDERS} concurrent accepts of one transfer`,
  raceDelete: 'race: accept against delete',
  raceExpiry: 'race: accepts around the expiry instant',
} as const;
type Fault = (typeof FAULTS)[keyof typeof FAULTS];

/** Temporal's PendingActivityState.STARTED: a worker has the activity (here: its call is in flight). */
const ACTIVITY_STARTED = 2;

let events: KafkaCollector;
let eventsRunning = false;
let internal: InventoryClient;
let shortTtl: ExtraApp | null = null;
let heldWrites: (() => Promise<void>) | null = null;
const ledger = new FaultLedger({ temporal: () => stack.temporal(), inventory: () => internal, events: () => events });
const timings: Record<string, number[]> = {};
let caseStartedAt = 0;
let caseName = '';
const steps: string[] = [];

beforeAll(async () => {
  const started = Date.now();
  for (const fault of Object.values(FAULTS)) ledger.declare(fault);
  await stack.down({ reset: true }).catch(() => undefined);
  await stack.up();
  internal = harnessInventory(stack.config());
  events = await KafkaCollector.start(TOPICS_WATCHED, { brokers: stack.kafkaBrokers });
  eventsRunning = true;
  shortTtl = await stack.spawnApp('gateway', sparePort(FAULTS_STACK, 0), { TRANSFER_TTL_SECONDS: String(SHORT_TTL_SECONDS), LOG_LEVEL: 'warn' });
  timings['stack up'] = [Date.now() - started];
}, 180_000);

afterAll(async () => {
  const started = Date.now();
  await shortTtl?.stop();
  if (eventsRunning) await events.stop().catch(() => undefined);
  // EVS_FAULTS_KEEP_DATA=1 keeps the fault stack's data folder (logs, histories) to look at afterwards.
  await stack.down({ reset: process.env.EVS_FAULTS_KEEP_DATA !== '1' });
  timings['stack down'] = [Date.now() - started];
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  const timingLine = Object.entries(timings)
    .map(([name, all]) => `${name} ${all.map(seconds).join('+')} s`)
    .join(', ');
  const file = ledger.writeReport(REPORT_FILE, {
    generatedAt: new Date().toISOString(),
    repetitions: REPETITIONS,
    kafkaOutageSeconds: KAFKA_OUTAGE_SECONDS,
    timingsMs: timings,
  });
  process.stdout.write(
    `\n[faults] ${REPETITIONS} repetition(s) of each fault; observed from Temporal, Kafka, the inventory and the read model:\n` +
      `${ledger.table()}\n[faults] report: ${file}\n[faults] timings: ${timingLine}\n[faults] steps: ${steps.join(' ')}\n`,
  );
}, 120_000);

afterEach(async () => {
  (timings[caseName] ??= []).push(Date.now() - caseStartedAt);
  await releaseWrites();
  // A failed case may leave a process down or frozen; the next case starts from a whole stack.
  await stack.heal();
  if (!eventsRunning) await restartCollector();
});

/** A collector that reads the topics from the start: it sees what reached the broker while none ran. */
async function restartCollector(): Promise<void> {
  events = await KafkaCollector.start(TOPICS_WATCHED, { brokers: stack.kafkaBrokers, from: 'beginning' });
  eventsRunning = true;
}

/** Notes how far into the current case a step is, for the timing line at the end. */
function mark(step: string): void {
  steps.push(`${caseName}/${step}@${((Date.now() - caseStartedAt) / 1000).toFixed(1)}`);
}

function startCase(name: string): void {
  caseName = name;
  caseStartedAt = Date.now();
}

/** The ledger's audit of this repetition: nothing lost, duplicated or inconsistent. */
async function audited(fault: Fault): Promise<void> {
  const findings = await ledger.audit(fault);
  mark('audited');
  expect(findings, JSON.stringify(findings, null, 2)).toEqual([]);
}

/**
 * Holds the read model's writes: the step that makes a transfer visible, or
 * records its end, cannot finish until released; readers (show, list) are
 * not blocked. On SQLite, the file's write lock (the worker's busy timeout
 * then fails its writes, and the activity retries); on PostgreSQL, a table
 * lock that only readers pass (the worker's write waits for it).
 */
async function holdReadModelWrites(): Promise<void> {
  const target = stack.config().databases.readModel;
  if (target.dialect === 'postgres') {
    const db = new PgClient({ connectionString: target.url });
    await db.connect();
    await db.query(`BEGIN; LOCK TABLE ${target.schema}.transfers IN EXCLUSIVE MODE`);
    heldWrites = async () => {
      await db.query('ROLLBACK');
      await db.end();
    };
    return;
  }
  const db = new Database(sqliteFileOf(target), { timeout: 1000 });
  db.exec('BEGIN IMMEDIATE');
  heldWrites = async () => {
    db.exec('ROLLBACK');
    db.close();
  };
}

async function releaseWrites(): Promise<void> {
  const release = heldWrites;
  heldWrites = null;
  await release?.();
}

/** The disk has exactly one owner, `owner`, and is available (no transfer holds it). */
async function expectOwnedBy(diskId: string, owner: Tenant, other: Tenant): Promise<void> {
  const seen = await owner.disk(diskId);
  expect(seen?.['os-vol-tenant-attr:tenant_id']).toBe(owner.projectId);
  expect(seen?.status).toBe('available');
  expect(await other.disk(diskId)).toBeNull();
  expect((await internal.getDisk(diskId))?.transferId).toBeNull();
}

async function workflowState(transferId: string): Promise<TransferStatus | null> {
  try {
    const view = await (await stack.temporal()).workflow.getHandle(transferWorkflowId(transferId)).query(transferViewQuery);
    return view.status;
  } catch {
    return null;
  }
}

/** The transfer workflow the gateway started for a disk, found by its search attribute. */
async function workflowForDisk(diskId: string): Promise<string | null> {
  const client = await stack.temporal();
  for await (const w of client.workflow.list({ query: `${SEARCH_ATTRIBUTES.diskId.name} = "${diskId}"` })) {
    return w.workflowId.replace(/^evs-transfer-/, '');
  }
  return null;
}

/** The transfer's pending activity of that type (its attempt and state), or null. */
async function pendingActivity(transferId: string, type: string): Promise<{ attempt: number; state: number } | null> {
  const description = await (await stack.temporal()).workflow.getHandle(transferWorkflowId(transferId)).describe();
  const found = (description.raw.pendingActivities ?? []).find((a) => a.activityType?.name === type);
  return found ? { attempt: found.attempt ?? 0, state: Number(found.state ?? 0) } : null;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - started };
}

/** A call in flight, and whether it has been answered yet. */
function inFlight<T>(promise: Promise<T>): { answer: Promise<T>; answered: () => boolean } {
  let done = false;
  const answer = promise.finally(() => {
    done = true;
  });
  return { answer, answered: () => done };
}

/**
 * What a client does with an accept whose answer it saw (202: done), did
 * not see (the gateway died) or was told may still complete (503): accept
 * again until the answer is definite. 404 then means it has already
 * happened, which the disk's owner shows (and the ledger checks).
 */
async function settleAccept(b: Tenant, transferId: string, authKey: string, answer: ApiAnswer | number | null): Promise<void> {
  const status = typeof answer === 'number' || answer === null ? answer : answer.status;
  if (status === 202) {
    ledger.confirm(transferId, { acceptedBy: b.projectId });
    return;
  }
  if (status !== null) expect(status, JSON.stringify(answer)).toBe(503);
  const deadline = Date.now() + GATEWAY_DEADLINE_MS * 2;
  for (;;) {
    const retry = await b.acceptTransfer(transferId, authKey);
    if (retry.status === 202) {
      ledger.confirm(transferId, { acceptedBy: b.projectId });
      return;
    }
    if (retry.status === 404) {
      const disk = await internal.getDisk(transferIdDisk.get(transferId) ?? '');
      expect(disk?.projectId, 'a retried accept answered 404: the first one must have moved the disk').toBe(b.projectId);
      return;
    }
    // Still under way (409) or not confirmed in time (503): ask again shortly.
    expect([409, 503], JSON.stringify(retry.body)).toContain(retry.status);
    if (Date.now() > deadline) throw new Error(`accept of ${transferId} never became definite: ${JSON.stringify(retry.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Which disk each tracked transfer moves, for settleAccept's check of the owner. */
const transferIdDisk = new Map<string, string>();

function track(fault: Fault, owner: Tenant, diskId: string, transferId: string, allowed: readonly Allowed[]): void {
  transferIdDisk.set(transferId, diskId);
  ledger.track(fault, { transferId, diskId, owner, allowed });
}

/** A pending transfer of `a`'s, tracked under the fault. */
async function pendingFor(fault: Fault, a: Tenant, allowed: readonly Allowed[]): Promise<PendingTransfer> {
  const pending = await a.pendingTransfer();
  track(fault, a, pending.disk.id, pending.transfer.id, allowed);
  return pending;
}

/**
 * Sends a call over a plain HTTP request and kills the gateway with -9 once
 * `moment` resolves (it is called when the request is on the wire). Resolves,
 * once the gateway is gone, with the status if an answer came anyway, else
 * null.
 */
async function callThenKillGateway(
  tenant: Tenant,
  method: string,
  urlPath: string,
  body: unknown,
  headers: Record<string, string>,
  moment: () => Promise<void>,
): Promise<number | null> {
  const payload = JSON.stringify(body);
  let killed: Promise<unknown> = Promise.resolve();
  const answer = new Promise<number | null>((resolve) => {
    const req = http.request(`${stack.gatewayUrl}${urlPath}`, {
      method,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-auth-token': tenant.token },
    });
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.once('error', () => resolve(null));
    req.once('finish', () => {
      killed = moment().then(() => stack.kill('gateway'));
    });
    req.end(payload);
  });
  const status = await answer;
  await killed;
  return status;
}

describe('worker kill -9', () => {
  it.for(REPS)('with transfers pending and a create sent while it is down: they all carry on (repetition %i)', async () => {
    startCase('worker idle');
    const fault = FAULTS.workerIdle;
    const a = await stack.tenant('w-a');
    const b = await stack.tenant('w-b');
    const toAccept = await pendingFor(fault, a, ['accepted']);
    const toDelete = await pendingFor(fault, a, ['deleted']);

    const workerPid = await stack.kill('worker');
    mark('killed');
    // Sent while no worker runs: the workflow starts, nobody validates it yet.
    const disk = await a.createDisk();
    const creating = inFlight(a.createTransfer(disk.id));
    await waitUntil('workflow started for the disk', async () => (await workflowForDisk(disk.id)) !== null);
    expect((await a.disk(disk.id))?.status).toBe('available');
    expect(creating.answered()).toBe(false);

    await stack.start('worker');
    mark('restarted');
    expect(stack.pid('worker')).not.toBe(workerPid);
    const created = await creating.answer;
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const late = created.body.transfer as { id: string; auth_key: string };
    track(fault, a, disk.id, late.id, ['accepted']);
    expect((await a.disk(disk.id))?.status).toBe('awaiting-transfer');

    const [accepted, deleted] = await Promise.all([
      b.acceptTransfer(toAccept.transfer.id, toAccept.transfer.auth_key),
      a.deleteTransfer(toDelete.transfer.id),
    ]);
    expect([accepted.status, deleted.status]).toEqual([202, 202]);
    ledger.confirm(toAccept.transfer.id, { acceptedBy: b.projectId });
    ledger.confirm(toDelete.transfer.id, { deleted: true });
    const listed = (await a.listTransfers()).body.transfers.map((t: { id: string }) => t.id);
    expect(listed).toEqual([late.id]);
    await settleAccept(b, late.id, late.auth_key, await b.acceptTransfer(late.id, late.auth_key));
    await audited(fault);
  });

  it.for(REPS)('after the disk is locked and before the transfer is pending: the create completes, its key works (repetition %i)', async () => {
    startCase('worker locked');
    const fault = FAULTS.workerLocked;
    const a = await stack.tenant('wl-a');
    const b = await stack.tenant('wl-b');
    const disk = await a.createDisk();
    const key = `wl-${disk.id}`;

    await holdReadModelWrites();
    const creating = inFlight(a.createTransfer(disk.id, 'e2e', { idempotencyKey: key }));
    let transferId = '';
    await waitUntil('disk locked, transfer not yet pending', async () => {
      transferId = (await workflowForDisk(disk.id)) ?? '';
      // The read model's writes are held: a worker that locked the disk is inside the step that shows the transfer.
      return transferId !== '' && (await internal.getDisk(disk.id))?.transferId === transferId;
    });
    expect(creating.answered()).toBe(false);
    expect((await a.showTransfer(transferId)).status).toBe(404);
    await stack.kill('worker');
    mark('killed in window');
    await releaseWrites();
    await stack.start('worker');
    mark('restarted');

    let created = await creating.answer;
    if (created.status !== 202) {
      // Past the gateway's deadline while no worker ran: the client retries, with its key.
      expect(created.status, JSON.stringify(created.body)).toBe(503);
      created = await a.createTransfer(disk.id, 'e2e', { idempotencyKey: key });
    }
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const transfer = created.body.transfer as { id: string; auth_key: string };
    expect(transfer.id).toBe(transferId);
    track(fault, a, disk.id, transfer.id, ['accepted']);
    expect((await a.showTransfer(transfer.id)).status).toBe(200);
    await settleAccept(b, transfer.id, transfer.auth_key, await b.acceptTransfer(transfer.id, transfer.auth_key));
    await audited(fault);
  });

  it.for(REPS)('during the reassign (the inventory frozen with the call in flight): the accept completes once (repetition %i)', async () => {
    startCase('worker reassign');
    const fault = FAULTS.workerReassign;
    const a = await stack.tenant('wr-a');
    const b = await stack.tenant('wr-b');
    const { disk, transfer } = await pendingFor(fault, a, ['accepted']);

    stack.freeze('inventory');
    const accepting = inFlight(b.acceptTransfer(transfer.id, transfer.auth_key));
    await waitUntil('reassign in flight', async () => (await pendingActivity(transfer.id, 'reassignDisk'))?.state === ACTIVITY_STARTED);
    await stack.kill('worker');
    mark('killed in window');
    // The call the dead worker made is still queued at the inventory: it may land now, after its caller died.
    stack.thaw();
    await new Promise((resolve) => setTimeout(resolve, 500));
    mark(`dead worker's reassign landed: ${(await internal.getDisk(disk.id))?.projectId === b.projectId ? 'yes' : 'no'}`);
    await stack.start('worker');
    mark('restarted');
    await settleAccept(b, transfer.id, transfer.auth_key, await accepting.answer);
    await audited(fault);
  });

  it.for(REPS)('after the reassign and before the event is published: the event still appears, once by id (repetition %i)', async () => {
    startCase('worker publish');
    const fault = FAULTS.workerPublish;
    const a = await stack.tenant('wp-a');
    const b = await stack.tenant('wp-b');
    const { disk, transfer } = await pendingFor(fault, a, ['accepted']);

    await holdReadModelWrites();
    const accepting = inFlight(b.acceptTransfer(transfer.id, transfer.auth_key));
    await waitUntil(
      'disk reassigned, ending not yet recorded',
      async () =>
        // The read model's writes are held: a worker that moved the disk is inside the step that records the ending.
        (await internal.getDisk(disk.id))?.projectId === b.projectId,
    );
    expect(events.events.some((e) => e.id === `${transfer.id}/accepted`)).toBe(false);
    await stack.kill('worker');
    mark('killed in window');
    await releaseWrites();
    await stack.start('worker');
    mark('restarted');
    await settleAccept(b, transfer.id, transfer.auth_key, await accepting.answer);
    await audited(fault);
  });
});

describe('Temporal restart', () => {
  it.for(REPS)('with transfers pending: gateway and worker reconnect; accept, delete and an expiry timer still work (repetition %i)', async () => {
    startCase('temporal');
    const fault = FAULTS.temporal;
    const a = await stack.tenant('t-a');
    const b = await stack.tenant('t-b');
    const toAccept = await pendingFor(fault, a, ['accepted']);
    const toDelete = await pendingFor(fault, a, ['deleted']);
    const toExpire = await a.via(shortTtl!.url).pendingTransfer();
    track(fault, a, toExpire.disk.id, toExpire.transfer.id, ['expired']);
    const apps = { gateway: stack.pid('gateway'), worker: stack.pid('worker') };

    await stack.stop('temporal');
    mark('stopped');
    expect(stack.pid('temporal')).toBeNull();
    // Reads come from the read model: answered while Temporal is away.
    expect((await a.showTransfer(toAccept.transfer.id)).status).toBe(200);
    await stack.start('temporal');
    mark('started');

    const [accepted, deleted] = await Promise.all([
      b.acceptTransfer(toAccept.transfer.id, toAccept.transfer.auth_key),
      a.deleteTransfer(toDelete.transfer.id),
    ]);
    await settleAccept(b, toAccept.transfer.id, toAccept.transfer.auth_key, accepted);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(202);
    ledger.confirm(toDelete.transfer.id, { deleted: true });
    await events.waitFor((e) => e.id === `${toExpire.transfer.id}/expired`, 30_000);
    mark('expired');
    expect((await b.acceptTransfer(toExpire.transfer.id, toExpire.transfer.auth_key)).status).toBe(404);
    // Nobody restarted the apps.
    expect({ gateway: stack.pid('gateway'), worker: stack.pid('worker') }).toEqual(apps);
    await audited(fault);
  });
});

describe('Kafka outage', () => {
  it.for(REPS)(
    `broker stopped ${KAFKA_OUTAGE_SECONDS} s: the API answers at once, a gateway and a worker killed meanwhile lose no audit record and no event, every one arrives after (repetition %i)`,
    { timeout: KAFKA_OUTAGE_SECONDS * 1000 + 150_000 },
    async () => {
      startCase('kafka');
      const fault = FAULTS.kafka;
      const a = await stack.tenant('k-a');
      const b = await stack.tenant('k-b');
      const toAccept = await pendingFor(fault, a, ['accepted']);
      const toDelete = await pendingFor(fault, a, ['deleted']);
      const disk = await a.createDisk();
      await events.waitFor((e) => e.id === `${toDelete.transfer.id}/created`);

      // The collector would only see what comes after a rejoin; a new one reads the topics from the start.
      await events.stop();
      eventsRunning = false;
      const outageStarted = Date.now();
      await stack.stop('kafka');
      mark('stopped');

      // A mistyped key first: its event is still unsent when the accept's event is recorded.
      const calls = [
        await timed(() => b.acceptTransfer(toAccept.transfer.id, '0000000000000000')),
        await timed(() => b.acceptTransfer(toAccept.transfer.id, toAccept.transfer.auth_key)),
        await timed(() => a.deleteTransfer(toDelete.transfer.id)),
        await timed(() => a.createTransfer(disk.id, 'e2e', { idempotencyKey: `k-${disk.id}` })),
      ];
      expect(calls.map((c) => c.value.status)).toEqual([400, 202, 202, 202]);
      for (const c of calls) expect(c.ms).toBeLessThan(5000);
      ledger.confirm(toAccept.transfer.id, { acceptedBy: b.projectId });
      ledger.confirm(toDelete.transfer.id, { deleted: true });
      const created = calls[3].value.body.transfer as { id: string };
      track(fault, a, disk.id, created.id, ['pending']);
      ledger.expectEvent(fault, `${toAccept.transfer.id}/accept_failed/1`);
      const requestIds = calls.map((c) => c.value.headers.get('x-request-id') ?? '');
      for (const id of requestIds) ledger.expectEvent(fault, `api/${id}`);
      await expectOwnedBy(toAccept.disk.id, b, a);
      mark('calls answered');
      // The outage is real for the worker: the accept's event waits in its outbox. A kill loses it not.
      const readModel = await TransferReadModel.open(stack.config().databases.readModel);
      try {
        await waitUntil(
          'the accepted event waiting in the worker’s outbox',
          async () => (await readModel.eventOutbox().oldest(1000)).some((row) => row.record.event.id === `${toAccept.transfer.id}/accepted`),
          30_000,
          250,
        );
      } finally {
        await readModel.close();
      }
      await stack.kill('worker');
      mark('worker killed');
      // Again on the same data folder (the same outbox), while the broker is still down: started
      // on its own, as up.sh would start Kafka as well.
      const worker = await stack.spawnApp('worker', sparePort(FAULTS_STACK, 2), { LOG_LEVEL: 'warn', WORKER_SDK_METRICS_PORT: '0' });

      // The answers were seen, so their audit records were on disk before: a kill loses none.
      await stack.kill('gateway');
      mark('gateway killed');
      const outbox = await AuditOutbox.open(stack.config().databases.gatewayOutbox);
      try {
        expect((await outbox.oldest(1000)).map((row) => row.record.event.id)).toEqual(expect.arrayContaining(requestIds.map((id) => `api/${id}`)));
      } finally {
        await outbox.close();
      }
      // up.sh would start Kafka as well: this gateway, on the same data folder (the same outbox), comes up while
      // the broker is still down, and keeps trying.
      const replacement = await stack.spawnApp('gateway', sparePort(FAULTS_STACK, 1), { LOG_LEVEL: 'warn' });
      try {
        expect((await a.via(replacement.url).showTransfer(created.id)).status).toBe(200);
        const left = KAFKA_OUTAGE_SECONDS * 1000 - (Date.now() - outageStarted);
        if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
        await stack.start('kafka');
        mark('started');
        (timings['kafka outage'] ??= []).push(Date.now() - outageStarted);
        await restartCollector();
        for (const id of requestIds) await events.waitFor((e) => e.id === `api/${id}`, 60_000);
        mark('audit records');
      } finally {
        await replacement.stop();
        await worker.stop();
      }
      await stack.start('gateway');
      await stack.start('worker');
      await audited(fault);
    },
  );
});

describe('inventory stopped', () => {
  it.for(REPS)('during a create (503, nothing half-done) and during an accept (it waits, then 202) (repetition %i)', async () => {
    startCase('inventory');
    const fault = FAULTS.inventory;
    const a = await stack.tenant('i-a');
    const b = await stack.tenant('i-b');
    const disk = await a.createDisk();

    await stack.stop('inventory');
    mark('stopped');
    const refused = await timed(() => a.createTransfer(disk.id));
    expect(refused.value.status, JSON.stringify(refused.value.body)).toBe(503);
    expect(refused.value.body.error.code).toBe('EVS.5503');
    // It kept trying for seconds, until the next retry would have passed the bound (retries are at most 2 s apart).
    expect(refused.ms).toBeGreaterThanOrEqual(2000);
    expect(refused.ms).toBeLessThan(VALIDATION_TIMEOUT_SECONDS * 1000 + 5000);
    mark('create refused');
    await stack.start('inventory');
    mark('started');
    const refusedId = await workflowForDisk(disk.id);
    expect(refusedId).not.toBeNull();
    track(fault, a, disk.id, refusedId!, ['rejected']);
    expect((await a.listTransfers()).body.transfers).toEqual([]);

    const res = await a.createTransfer(disk.id);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const transfer = res.body.transfer as { id: string; auth_key: string };
    track(fault, a, disk.id, transfer.id, ['accepted']);

    await stack.stop('inventory');
    const accepting = inFlight(timed(() => b.acceptTransfer(transfer.id, transfer.auth_key)));
    await waitUntil('accept under way', async () => (await workflowState(transfer.id)) === 'accepting', 10_000);
    mark('accept under way');
    expect(accepting.answered()).toBe(false);
    await stack.start('inventory');
    mark('started again');
    const accepted = await accepting.answer;
    expect(accepted.ms).toBeLessThan(GATEWAY_DEADLINE_MS + 2000);
    await settleAccept(b, transfer.id, transfer.auth_key, accepted.value);
    await audited(fault);
  });
});

describe('gateway kill -9 during a create with an Idempotency-Key', () => {
  it.for(REPS)('as soon as the request is on the wire: the retry gets one transfer and a key that works (repetition %i)', async () => {
    startCase('gateway create sent');
    await createKillRetry(FAULTS.gatewayCreateSent, async () => undefined);
  });

  it.for(REPS)('with the workflow started and the disk not yet locked (the inventory frozen): the retry joins it (repetition %i)', async () => {
    startCase('gateway create validating');
    await createKillRetry(FAULTS.gatewayCreateValidating, async (diskId) => {
      stack.freeze('inventory');
      await waitUntil('workflow started', async () => (await workflowForDisk(diskId)) !== null, 10_000, 20);
    });
  });

  it.for(REPS)('once the disk is locked (the create held open): the retry gets that transfer (repetition %i)', async () => {
    startCase('gateway create locked');
    await holdReadModelWrites();
    await createKillRetry(FAULTS.gatewayCreateLocked, async (diskId) => {
      await waitUntil('disk locked by the create', async () => Boolean((await internal.getDisk(diskId))?.transferId), 10_000, 20);
    });
  });
});

/**
 * A creates with an Idempotency-Key, the gateway dies at `moment`, and A
 * sends the same create again: one transfer, the same answer if the first
 * one had come through, and its key opens it.
 */
async function createKillRetry(fault: Fault, moment: (diskId: string) => Promise<void>): Promise<void> {
  const a = await stack.tenant('gc-a');
  const b = await stack.tenant('gc-b');
  const disk = await a.createDisk();
  const key = `gc-${disk.id}`;
  const status = await callThenKillGateway(a, 'POST', a.transfers(), { transfer: { volume_id: disk.id, name: 'e2e' } }, { 'Idempotency-Key': key }, () =>
    moment(disk.id),
  );
  mark(`killed (answer ${status ?? 'none'}, workflow ${(await workflowForDisk(disk.id)) === null ? 'not started' : 'started'})`);
  stack.thaw();
  await releaseWrites();
  await stack.start('gateway');
  mark('restarted');

  const retry = await a.createTransfer(disk.id, 'e2e', { idempotencyKey: key });
  expect(retry.status, JSON.stringify(retry.body)).toBe(202);
  const transfer = retry.body.transfer as { id: string; auth_key: string };
  track(fault, a, disk.id, transfer.id, ['accepted']);
  // The client can see what it has: exactly this transfer, and the disk locked for it.
  expect((await a.listTransfers()).body.transfers.map((t: { id: string }) => t.id)).toEqual([transfer.id]);
  expect((await a.disk(disk.id))?.status).toBe('awaiting-transfer');
  await settleAccept(b, transfer.id, transfer.auth_key, await b.acceptTransfer(transfer.id, transfer.auth_key));
  await audited(fault);
}

describe('gateway kill -9 during an accept', () => {
  it.for(REPS)('as soon as the request is on the wire: the client finds out and retries; one owner (repetition %i)', async () => {
    startCase('gateway accept sent');
    const fault = FAULTS.gatewayAcceptSent;
    const a = await stack.tenant('ga-a');
    const b = await stack.tenant('ga-b');
    const { disk, transfer } = await pendingFor(fault, a, ['accepted']);
    const status = await callThenKillGateway(b, 'POST', `${b.transfers()}/${transfer.id}/accept`, { accept: { auth_key: transfer.auth_key } }, {}, async () => undefined);
    mark(`killed (answer ${status ?? 'none'}, workflow ${(await workflowState(transfer.id)) ?? 'unknown'})`);
    await stack.start('gateway');
    mark('restarted');
    // What the client can look at: the owner sees the transfer still pending, or gone with the disk moved.
    const shown = (await a.showTransfer(transfer.id)).status;
    expect([200, 404]).toContain(shown);
    if (shown === 200) expect((await a.disk(disk.id))?.status).toBe('awaiting-transfer');
    await settleAccept(b, transfer.id, transfer.auth_key, status);
    await audited(fault);
  });

  it.for(REPS)('once the workflow has taken it (the disk move held up): the acceptance is not lost (repetition %i)', async () => {
    startCase('gateway accept admitted');
    const fault = FAULTS.gatewayAcceptAdmitted;
    const a = await stack.tenant('gm-a');
    const b = await stack.tenant('gm-b');
    const { disk, transfer } = await pendingFor(fault, a, ['accepted']);
    stack.freeze('inventory');
    const status = await callThenKillGateway(b, 'POST', `${b.transfers()}/${transfer.id}/accept`, { accept: { auth_key: transfer.auth_key } }, {}, () =>
      waitUntil('accept admitted', async () => (await workflowState(transfer.id)) === 'accepting', 10_000, 20),
    );
    expect(status).toBeNull();
    mark('killed');
    stack.thaw();
    await stack.start('gateway');
    mark('restarted');
    // The client never got an answer; the disk tells it the accept went through.
    await waitUntil('disk moved to the acceptor', async () => (await b.disk(disk.id))?.status === 'available', 30_000, 200);
    expect((await a.showTransfer(transfer.id)).status).toBe(404);
    expect((await b.acceptTransfer(transfer.id, transfer.auth_key)).status).toBe(404);
    await audited(fault);
  });
});

describe('races', () => {
  it.for(REPS)(`${BIDDERS} concurrent accepts by different tenants: exactly one succeeds and owns the disk (repetition %i)`, async () => {
    startCase('race bidders');
    const fault = FAULTS.raceBidders;
    const a = await stack.tenant('rb-a');
    const { transfer } = await pendingFor(fault, a, ['accepted']);
    const bidders = await Promise.all(Array.from({ length: BIDDERS }, (_, i) => stack.tenant(`bidder${i}`)));
    const answers = await Promise.all(bidders.map((b) => b.acceptTransfer(transfer.id, transfer.auth_key)));
    const winners = bidders.filter((_, i) => answers[i].status === 202);
    expect(winners, JSON.stringify(answers.map((r) => [r.status, r.body?.error?.code ?? null]))).toHaveLength(1);
    for (const res of answers.filter((r) => r.status !== 202)) expect(['EVS.5404', 'EVS.5410']).toContain(res.body.error.code);
    ledger.confirm(transfer.id, { acceptedBy: winners[0].projectId });
    await audited(fault);
  });

  it.for(REPS)('accept against delete, three rounds: exactly one wins, and the disk agrees with the winner (repetition %i)', async () => {
    startCase('race delete');
    const fault = FAULTS.raceDelete;
    for (let round = 0; round < 3; round++) {
      const a = await stack.tenant('rd-a');
      const b = await stack.tenant('rd-b');
      const { transfer } = await pendingFor(fault, a, ['accepted', 'deleted']);
      const [accepted, deleted] = await Promise.all([b.acceptTransfer(transfer.id, transfer.auth_key), a.deleteTransfer(transfer.id)]);
      expect([accepted.status, deleted.status].filter((s) => s === 202)).toHaveLength(1);
      ledger.confirm(transfer.id, accepted.status === 202 ? { acceptedBy: b.projectId } : { deleted: true });
    }
    await audited(fault);
  });

  it.for(REPS)('accepts fired around the expiry instant, three transfers at once: each accepted or expired, never both (repetition %i)', async () => {
    startCase('race expiry');
    const fault = FAULTS.raceExpiry;
    // Volleys a few milliseconds wide, centred before, at and after the instant the expiry timer fires, so
    // that over the rounds both sides win; each round is a transfer of its own, all three in parallel.
    const centresMs = [-15, 0, 15];
    const spreadMs = [-8, -4, -2, 0, 2, 4, 8];
    const outcomes = await Promise.all(
      centresMs.map(async (centre, round) => {
        const a = (await stack.tenant(`re-a${round}`)).via(shortTtl!.url);
        const bidders = await Promise.all(spreadMs.map((_, i) => stack.tenant(`re-b${round}-${i}`)));
        const { disk, transfer } = await a.pendingTransfer();
        track(fault, a, disk.id, transfer.id, ['accepted', 'expired']);
        const createdAt = (await a.showTransfer(transfer.id)).body.transfer.created_at as string;
        const expiresAt = Date.parse(`${createdAt.slice(0, 23)}Z`) + SHORT_TTL_SECONDS * 1000;
        const answers = await Promise.all(
          bidders.map(async (b, i) => {
            const wait = expiresAt + centre + spreadMs[i] - Date.now();
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
            return b.acceptTransfer(transfer.id, transfer.auth_key);
          }),
        );
        const winners = bidders.filter((_, i) => answers[i].status === 202);
        expect(winners.length).toBeLessThanOrEqual(1);
        for (const res of answers.filter((r) => r.status !== 202)) expect(['EVS.5404', 'EVS.5410']).toContain(res.body.error.code);
        if (winners[0]) ledger.confirm(transfer.id, { acceptedBy: winners[0].projectId });
        return `${centre} ms: ${winners[0] ? 'accepted' : 'expired'}`;
      }),
    );
    mark(`volleys ${outcomes.join(', ')}`);
    await audited(fault);
  });
});

describe('the whole run', () => {
  it('lost nothing, duplicated nothing, left nothing inconsistent, and ran every fault as often as asked', () => {
    startCase('table');
    // Every lifecycle event of the run, tracked or not: no transfer ended twice, and each that ended was created first.
    const byTransfer = new Map<string, string[]>();
    for (const e of events.events) {
      if (e.topic !== TOPICS.lifecycle) continue;
      const seen = byTransfer.get(e.subject) ?? [];
      const step = e.id.slice(e.id.indexOf('/') + 1);
      if (!seen.includes(step)) seen.push(step);
      byTransfer.set(e.subject, seen);
    }
    for (const [subject, seen] of byTransfer) {
      const ends = seen.filter((step) => ['accepted', 'deleted', 'expired', 'create_rejected'].includes(step));
      expect(ends.length, `${subject}: ${seen.join(', ')}`).toBeLessThanOrEqual(1);
      if (ends.length === 1 && ends[0] !== 'create_rejected') expect(seen, subject).toEqual(['created', ends[0]]);
    }
    for (const row of ledger.rows()) {
      expect(row.repetitions, row.fault).toBe(REPETITIONS);
      expect(row.transfers, row.fault).toBeGreaterThan(0);
    }
    expect(ledger.findings()).toEqual([]);
    expect(ledger.totals()).toMatchObject({ lost: 0, duplicated: 0, inconsistent: 0 });
  });
});
