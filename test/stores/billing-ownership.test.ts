/**
 * Billing's ownership ledger fed through the consumer machinery, on SQLite
 * and PostgreSQL: who owned which disk when, the same whatever order or
 * however often events arrive, and right when two replicas record facts of
 * one disk at the same moment.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BILLING_MIGRATIONS, OwnershipStore, type OwnershipTables } from '../../apps/billing/src/ledger/ownership.store';
import { ownershipLedgerHandler } from '../../apps/billing/src/ledger/ownership-ledger.handler';
import { type ConsumerTables, openConsumerDatabase } from '../../libs/consumer/src/consumer-database';
import { type ConsumedRecord, type EventHandler, ExactlyOnceProcessor } from '../../libs/consumer/src/event-processor';
import { type OutgoingRecord, transferEventRecord } from '../../libs/contracts/src/events';
import type { StoreDatabase } from '../../libs/database/src/store-database';
import type { DiskFacts } from '../../libs/domain/src/disk';
import { DEFAULT_TRANSFER_POLICY, evolveAll, initialState, type PublishedTransferEvent } from '../../libs/domain/src/transfer';
import { toBinaryModeMessage } from '../../libs/kafka/src/cloud-event-record';
import type { OwnershipFact } from '../../apps/billing/src/ledger/ownership-ledger';
import { DIALECTS, type DisposableTarget, freshStoreTarget } from '../support/store-targets';
import { sharingOneThread, writeReleaseOneFile } from './consumer-support';

const T = (minute: number) => Date.UTC(2026, 0, 1, 0, minute);

/** The lifecycle records the worker would publish for one transfer of `diskId` from `source`. */
function transferRecords(transferId: string, diskId: string, source: string, createdMinute: number, events: PublishedTransferEvent[]): OutgoingRecord[] {
  const disk = { id: diskId, projectId: source, sizeGb: 10, volumeType: 'SSD' } as DiskFacts;
  const state = evolveAll(
    initialState({
      transferId,
      volumeId: diskId,
      name: null,
      owner: { projectId: source, userId: `${source}-user`, requestId: `req-${transferId}` },
      createdAtMs: T(createdMinute),
      authKeyHash: 'hash',
      policy: DEFAULT_TRANSFER_POLICY,
    }),
    [{ type: 'TransferCreated', at: T(createdMinute), disk }],
  );
  return [{ type: 'TransferCreated', at: T(createdMinute), disk } as PublishedTransferEvent, ...events].map((e) => transferEventRecord(state, e));
}

const acceptedBy = (projectId: string, minute: number, diskId: string): PublishedTransferEvent => ({
  type: 'TransferAccepted',
  at: T(minute),
  recipient: { projectId, userId: `${projectId}-user`, requestId: 'r' },
  disk: { id: diskId, projectId, sizeGb: 10, volumeType: 'SSD' } as DiskFacts,
});

let offset = 0;
function consumed(record: OutgoingRecord): ConsumedRecord {
  const m = toBinaryModeMessage(record);
  return { topic: record.topic, partition: 0, offset: String(offset++), key: m.key, value: m.value, headers: m.headers };
}

/** disk-1: a → b → c; disk-2: b, transfer deleted; disk-3: a, a rejected create by someone else in between. */
const STREAM: OutgoingRecord[] = [
  ...transferRecords('t1', 'disk-1', 'a', 10, [acceptedBy('b', 20, 'disk-1')]),
  ...transferRecords('t2', 'disk-1', 'b', 30, [acceptedBy('c', 40, 'disk-1')]),
  ...transferRecords('t3', 'disk-2', 'b', 15, [{ type: 'TransferDeleted', at: T(16), actor: { projectId: 'b', userId: 'u', requestId: 'r' }, forced: false }]),
  ...transferRecords('t4', 'disk-3', 'a', 50, []),
  // Someone who does not own disk-3 asks to transfer it: refused, and no sign of ownership.
  ...transferRecords('t5', 'disk-3', 'mallory', 55, [{ type: 'TransferCreateRejected', at: T(55), reason: 'DiskNotFound' }]).slice(1),
];

type BillingDatabase = StoreDatabase<ConsumerTables & OwnershipTables>;

/** The ledger's handler, holding its transaction open a while after each effect so that replicas overlap. */
function lingering(handler: EventHandler<OwnershipFact, OwnershipTables>, ms: number): EventHandler<OwnershipFact, OwnershipTables> {
  return {
    decide: (event, record) => handler.decide(event, record),
    apply: async (fact, event, trx) => {
      await handler.apply(fact, event, trx);
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
  };
}

describe.each(DIALECTS)('the ownership ledger on %s', (dialect) => {
  const places: DisposableTarget[] = [];
  const opened: BillingDatabase[] = [];

  async function openOn(place: DisposableTarget) {
    const db = await openConsumerDatabase<OwnershipTables>({ store: 'billing', target: place.target, migrations: BILLING_MIGRATIONS });
    opened.push(db);
    const store = new OwnershipStore(db);
    return { db, store, processor: new ExactlyOnceProcessor(db, ownershipLedgerHandler(store)) };
  }

  /** A ledger in a database of its own. */
  async function ledger() {
    const place = await freshStoreTarget(dialect, 'billing');
    places.push(place);
    return openOn(place);
  }

  const snapshot = (db: BillingDatabase) => db.db.selectFrom('ownership_intervals').selectAll().orderBy('disk_id').orderBy('seq').execute();

  beforeEach(() => {
    offset = 0;
  });

  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
    for (const place of places.splice(0)) await place.dispose();
  });

  it('answers who owned a disk when, with the transfer at each hand-over', async () => {
    const { store, processor } = await ledger();
    await processor.processAll(STREAM.map(consumed));

    expect(await store.disk('disk-1')).toEqual([
      { diskId: 'disk-1', projectId: 'a', fromMs: T(10), toMs: T(20), startedByTransferId: null, endedByTransferId: 't1' },
      { diskId: 'disk-1', projectId: 'b', fromMs: T(20), toMs: T(40), startedByTransferId: 't1', endedByTransferId: 't2' },
      { diskId: 'disk-1', projectId: 'c', fromMs: T(40), toMs: null, startedByTransferId: 't2', endedByTransferId: null },
    ]);
    expect(await store.disk('disk-2')).toEqual([{ diskId: 'disk-2', projectId: 'b', fromMs: T(15), toMs: null, startedByTransferId: null, endedByTransferId: null }]);
    expect((await store.disk('disk-3')).map((i) => i.projectId)).toEqual(['a']);
    expect(await store.disk('disk-9')).toEqual([]);
    expect(await store.project('mallory', {})).toEqual([]);
  });

  it('finds a project’s intervals overlapping a half-open range, each whole', async () => {
    const { store, processor } = await ledger();
    await processor.processAll(STREAM.map(consumed));
    const disksOf = async (projectId: string, range: { fromMs?: number; toMs?: number }) =>
      (await store.project(projectId, range)).map((i) => `${i.diskId}@${i.fromMs}`);

    expect(await disksOf('b', {})).toEqual([`disk-2@${T(15)}`, `disk-1@${T(20)}`]);
    // b held disk-1 over [20, 40): a range ending at 20 or starting at 40 does not meet it.
    expect(await disksOf('b', { fromMs: T(0), toMs: T(20) })).toEqual([`disk-2@${T(15)}`]);
    expect(await disksOf('b', { fromMs: T(40) })).toEqual([`disk-2@${T(15)}`]);
    expect(await disksOf('b', { fromMs: T(39), toMs: T(41) })).toEqual([`disk-2@${T(15)}`, `disk-1@${T(20)}`]);
    expect(await disksOf('c', { toMs: T(40) })).toEqual([]);
    expect(await disksOf('c', { fromMs: T(1000) })).toEqual([`disk-1@${T(40)}`]);
  });

  it('gives the same ledger for a reversed stream, a stream with every record twice, and one record at a time', async () => {
    const forward = await ledger();
    await forward.processor.processAll(STREAM.map(consumed));
    const backward = await ledger();
    await backward.processor.processAll([...STREAM].reverse().map(consumed));
    const twice = await ledger();
    await twice.processor.processAll([...STREAM, ...STREAM].map(consumed));
    const single = await ledger();
    for (const record of STREAM) await single.processor.processAll([consumed(record)]);

    const expected = await snapshot(forward.db);
    expect(expected).toHaveLength(5);
    for (const other of [backward, twice, single]) expect(await snapshot(other.db)).toEqual(expected);
    expect((await twice.processor.metrics()).since_start.duplicates).toBe(STREAM.length);
  });

  it('two replicas recording different facts of one disk at once both count: neither rebuild loses the other’s fact', async () => {
    const place = await freshStoreTarget(dialect, 'billing');
    places.push(place);
    const [one, two] = [await openOn(place), await openOn(place)];
    await sharingOneThread(one.db, two.db);
    const [created, accepted] = transferRecords('t1', 'disk-1', 'a', 10, [acceptedBy('b', 20, 'disk-1')]).map(consumed);

    const outcomes = await Promise.all([
      new ExactlyOnceProcessor(one.db, lingering(ownershipLedgerHandler(one.store), 20)).processAll([created]),
      new ExactlyOnceProcessor(two.db, lingering(ownershipLedgerHandler(two.store), 20)).processAll([accepted]),
    ]);

    expect(outcomes).toEqual([['applied'], ['applied']]);
    expect(await one.store.disk('disk-1')).toEqual([
      { diskId: 'disk-1', projectId: 'a', fromMs: T(10), toMs: T(20), startedByTransferId: null, endedByTransferId: 't1' },
      { diskId: 'disk-1', projectId: 'b', fromMs: T(20), toMs: null, startedByTransferId: 't1', endedByTransferId: null },
    ]);
  });

  it('keeps epoch milliseconds past 2^31 as numbers', async () => {
    const { store, processor } = await ledger();
    await processor.processAll(transferRecords('t9', 'disk-9', 'a', 10, []).map(consumed));
    const [interval] = await store.disk('disk-9');
    expect(interval?.fromMs).toBe(T(10));
    expect(typeof interval?.fromMs).toBe('number');
  });
});

describe('a billing file written by the SQLite-only release', () => {
  let place: DisposableTarget;
  beforeEach(async () => {
    place = await freshStoreTarget('sqlite', 'billing');
  });
  afterEach(async () => {
    await place.dispose();
  });

  it('is taken over with its facts: old answers stand, and a new fact rebuilds from old and new together', async () => {
    if (place.target.dialect !== 'sqlite') throw new Error('a SQLite target');
    writeReleaseOneFile(place.target.file, 'billing', (old) => {
      old
        .prepare('INSERT INTO ownership_facts (event_id, disk_id, transfer_id, kind, source_project_id, destination_project_id, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run('t1/created', 'disk-1', 't1', 'created', 'a', null, T(10));
      old
        .prepare('INSERT INTO ownership_intervals (disk_id, seq, project_id, from_ms, to_ms, started_by_transfer_id, ended_by_transfer_id) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run('disk-1', 0, 'a', T(10), null, null, null);
    });
    const db = await openConsumerDatabase<OwnershipTables>({ store: 'billing', target: place.target, migrations: BILLING_MIGRATIONS });
    try {
      const store = new OwnershipStore(db);
      expect((await store.disk('disk-1')).map((i) => [i.projectId, i.toMs])).toEqual([['a', null]]);
      const accepted = transferRecords('t1', 'disk-1', 'a', 10, [acceptedBy('b', 20, 'disk-1')]).map(consumed)[1];
      await new ExactlyOnceProcessor(db, ownershipLedgerHandler(store)).processAll([accepted]);
      expect((await store.disk('disk-1')).map((i) => [i.projectId, i.fromMs, i.toMs])).toEqual([
        ['a', T(10), T(20)],
        ['b', T(20), null],
      ]);
    } finally {
      await db.close();
    }
  });
});
