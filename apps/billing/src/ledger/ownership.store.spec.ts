import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openConsumerDatabase } from '../../../../libs/consumer/src/consumer-database';
import { type ConsumedRecord, ExactlyOnceProcessor } from '../../../../libs/consumer/src/event-processor';
import { type OutgoingRecord, transferEventRecord } from '../../../../libs/contracts/src/events';
import type { DiskFacts } from '../../../../libs/domain/src/disk';
import { DEFAULT_TRANSFER_POLICY, evolveAll, initialState, type PublishedTransferEvent } from '../../../../libs/domain/src/transfer';
import { toBinaryModeMessage } from '../../../../libs/kafka/src/cloud-event-record';
import { ownershipLedgerHandler } from './ownership-ledger.handler';
import { BILLING_MIGRATIONS, OwnershipStore } from './ownership.store';

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

let dir: string;
const opened: Database.Database[] = [];
function ledger(name: string) {
  const db = openConsumerDatabase(path.join(dir, `${name}.sqlite`), BILLING_MIGRATIONS);
  opened.push(db);
  const store = new OwnershipStore(db);
  return { store, db, processor: new ExactlyOnceProcessor(db, ownershipLedgerHandler(store)) };
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evs-billing-'));
});
afterEach(() => {
  for (const db of opened.splice(0)) if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the ownership ledger fed through the consumer machinery', () => {
  it('answers who owned a disk when, with the transfer at each hand-over', () => {
    const { store, processor } = ledger('one');
    processor.processAll(STREAM.map(consumed));

    expect(store.disk('disk-1')).toEqual([
      { diskId: 'disk-1', projectId: 'a', fromMs: T(10), toMs: T(20), startedByTransferId: null, endedByTransferId: 't1' },
      { diskId: 'disk-1', projectId: 'b', fromMs: T(20), toMs: T(40), startedByTransferId: 't1', endedByTransferId: 't2' },
      { diskId: 'disk-1', projectId: 'c', fromMs: T(40), toMs: null, startedByTransferId: 't2', endedByTransferId: null },
    ]);
    expect(store.disk('disk-2')).toEqual([{ diskId: 'disk-2', projectId: 'b', fromMs: T(15), toMs: null, startedByTransferId: null, endedByTransferId: null }]);
    expect(store.disk('disk-3').map((i) => i.projectId)).toEqual(['a']);
    expect(store.disk('disk-9')).toEqual([]);
    expect(store.project('mallory', {})).toEqual([]);
  });

  it('finds a project’s intervals overlapping a half-open range, each whole', () => {
    const { store, processor } = ledger('range');
    processor.processAll(STREAM.map(consumed));
    const disksOf = (projectId: string, range: { fromMs?: number; toMs?: number }) => store.project(projectId, range).map((i) => `${i.diskId}@${i.fromMs}`);

    expect(disksOf('b', {})).toEqual([`disk-2@${T(15)}`, `disk-1@${T(20)}`]);
    // b held disk-1 over [20, 40): a range ending at 20 or starting at 40 does not meet it.
    expect(disksOf('b', { fromMs: T(0), toMs: T(20) })).toEqual([`disk-2@${T(15)}`]);
    expect(disksOf('b', { fromMs: T(40) })).toEqual([`disk-2@${T(15)}`]);
    expect(disksOf('b', { fromMs: T(39), toMs: T(41) })).toEqual([`disk-2@${T(15)}`, `disk-1@${T(20)}`]);
    expect(disksOf('c', { toMs: T(40) })).toEqual([]);
    expect(disksOf('c', { fromMs: T(1000) })).toEqual([`disk-1@${T(40)}`]);
  });

  it('gives the same ledger for a reversed stream, a stream with every record twice, and one record at a time', () => {
    const forward = ledger('forward');
    forward.processor.processAll(STREAM.map(consumed));
    const backward = ledger('backward');
    backward.processor.processAll([...STREAM].reverse().map(consumed));
    const twice = ledger('twice');
    twice.processor.processAll([...STREAM, ...STREAM].map(consumed));
    const single = ledger('single');
    for (const record of STREAM) single.processor.processAll([consumed(record)]);

    const snapshot = (l: { db: Database.Database }) => l.db.prepare('SELECT * FROM ownership_intervals ORDER BY disk_id, seq').all();
    expect(snapshot(forward)).toHaveLength(5);
    for (const other of [backward, twice, single]) expect(snapshot(other)).toEqual(snapshot(forward));
    expect(twice.processor.metrics().since_start.duplicates).toBe(STREAM.length);
  });
});
