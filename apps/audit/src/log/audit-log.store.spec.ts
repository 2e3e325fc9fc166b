import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openConsumerDatabase } from '../../../../libs/consumer/src/consumer-database';
import { type ConsumedRecord, ExactlyOnceProcessor } from '../../../../libs/consumer/src/event-processor';
import { API_ACTIONS, apiAuditRecord, CLOUD_EVENT_TYPES, type OutgoingRecord, transferEventRecord } from '../../../../libs/contracts/src/events';
import type { DiskFacts } from '../../../../libs/domain/src/disk';
import { DEFAULT_TRANSFER_POLICY, evolveAll, initialState, type PublishedTransferEvent } from '../../../../libs/domain/src/transfer';
import { toBinaryModeMessage } from '../../../../libs/kafka/src/cloud-event-record';
import { auditLogHandler } from './audit-log.handler';
import { AUDIT_MIGRATIONS, type AuditQuery, AuditLogStore } from './audit-log.store';

const T = (minute: number) => Date.UTC(2026, 0, 1, 0, minute);
const disk = { id: 'disk-1', projectId: 'a', sizeGb: 10, volumeType: 'SSD' } as DiskFacts;
const state = evolveAll(
  initialState({
    transferId: 't1',
    volumeId: 'disk-1',
    name: null,
    owner: { projectId: 'a', userId: 'alice', requestId: 'req-1' },
    createdAtMs: T(1),
    authKeyHash: 'hash',
    policy: DEFAULT_TRANSFER_POLICY,
  }),
  [{ type: 'TransferCreated', at: T(1), disk }],
);
const lifecycle = (event: PublishedTransferEvent) => transferEventRecord(state, event);
const api = (requestId: string, minute: number, actor: string | null, pathProject: string, status: number) =>
  apiAuditRecord({
    requestId,
    at: T(minute),
    action: API_ACTIONS.accept,
    actor: { projectId: actor, userId: actor ? `${actor}-user` : null },
    pathProjectId: pathProject,
    target: { transferId: 't1', volumeId: 'disk-1' },
    outcome: { status, code: status < 400 ? null : 'EVS.5440' },
    sourceIp: '127.0.0.1',
  });

/** t1: a creates; m from project m guesses a wrong key, then knocks on a's path; b accepts. */
const STREAM: OutgoingRecord[] = [
  api('req-1', 1, 'a', 'a', 202),
  lifecycle({ type: 'TransferCreated', at: T(1), disk }),
  lifecycle({ type: 'AcceptAttemptFailed', at: T(2), actor: { projectId: 'm', userId: 'mallory', requestId: 'req-2' }, reason: 'InvalidAuthKey', attempt: 1 }),
  api('req-2', 2, 'm', 'm', 400),
  api('req-3', 3, 'm', 'a', 403),
  lifecycle({ type: 'TransferAccepted', at: T(4), recipient: { projectId: 'b', userId: 'bob', requestId: 'req-4' }, disk }),
  api('req-4', 4, 'b', 'b', 202),
];

let offset = 0;
function consumed(record: OutgoingRecord): ConsumedRecord {
  const m = toBinaryModeMessage(record);
  return { topic: record.topic, partition: 0, offset: String(offset++), key: m.key, value: m.value, headers: m.headers };
}

let dir: string;
const opened: Database.Database[] = [];
function auditLog(name: string, records: readonly OutgoingRecord[]) {
  const db = openConsumerDatabase(path.join(dir, `${name}.sqlite`), AUDIT_MIGRATIONS);
  opened.push(db);
  const store = new AuditLogStore(db);
  const processor = new ExactlyOnceProcessor(db, auditLogHandler(store), { logger: { log: () => undefined, warn: () => undefined, error: () => undefined } });
  processor.processAll(records.map(consumed));
  return { db, store, processor };
}
const ids = (store: AuditLogStore, query: Omit<AuditQuery, 'limit'>) => store.query({ limit: 100, ...query }).entries.map((e) => e.eventId);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evs-audit-'));
});
afterEach(() => {
  for (const db of opened.splice(0)) if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the audit log fed through the consumer machinery', () => {
  it('keeps every event of the three topics, oldest first, with its data whole', () => {
    const { store } = auditLog('all', STREAM);
    const { entries } = store.query({ limit: 100 });

    expect(entries.map((e) => e.eventId)).toEqual(['api/req-1', 't1/created', 'api/req-2', 't1/accept_failed/1', 'api/req-3', 'api/req-4', 't1/accepted']);
    const accepted = entries.find((e) => e.type === CLOUD_EVENT_TYPES.TransferAccepted);
    expect(accepted).toMatchObject({ transferId: 't1', diskId: 'disk-1', key: 'disk-1', actor: { projectId: 'b', userId: 'bob' }, timeMs: T(4) });
    expect(accepted?.data).toEqual(STREAM[5].event.data);
  });

  it('finds a project’s events in any role: actor, owner, recipient, or the project a caller addressed', () => {
    const { store } = auditLog('roles', STREAM);

    // a: created it, owns the disk in the failed attempt and the acceptance, and was addressed by m's call.
    expect(ids(store, { projectId: 'a' })).toEqual(['api/req-1', 't1/created', 't1/accept_failed/1', 'api/req-3', 't1/accepted']);
    expect(ids(store, { projectId: 'b' })).toEqual(['api/req-4', 't1/accepted']);
    expect(ids(store, { projectId: 'm' })).toEqual(['api/req-2', 't1/accept_failed/1', 'api/req-3']);
    expect(ids(store, { actorProjectId: 'm' })).toEqual(['api/req-2', 't1/accept_failed/1', 'api/req-3']);
    expect(ids(store, { actorUserId: 'mallory' })).toEqual(['t1/accept_failed/1']);
  });

  it('filters by disk, transfer, type and half-open time range, together', () => {
    const { store } = auditLog('filters', STREAM);

    expect(ids(store, { transferId: 't1', type: CLOUD_EVENT_TYPES.ApiCallAudited })).toEqual(['api/req-1', 'api/req-2', 'api/req-3', 'api/req-4']);
    expect(ids(store, { diskId: 'disk-1', fromMs: T(2), toMs: T(4) })).toEqual(['api/req-2', 't1/accept_failed/1', 'api/req-3']);
    expect(ids(store, { diskId: 'disk-2' })).toEqual([]);
  });

  it('pages through in a stable order, the same whatever order the events arrived in', () => {
    const forward = auditLog('forward', STREAM).store;
    const backward = auditLog('backward', [...STREAM].reverse()).store;
    const pages = (store: AuditLogStore) => {
      const seen: string[][] = [];
      let after: AuditQuery['after'];
      for (;;) {
        const { entries, more } = store.query({ projectId: 'a', limit: 2, after });
        seen.push(entries.map((e) => e.eventId));
        if (!more) return seen;
        const last = entries[entries.length - 1];
        after = { timeMs: last.timeMs, eventId: last.eventId };
      }
    };

    expect(pages(forward)).toEqual([['api/req-1', 't1/created'], ['t1/accept_failed/1', 'api/req-3'], ['t1/accepted']]);
    expect(pages(backward)).toEqual(pages(forward));
  });

  it('keeps each event once, skips what it cannot read, and refuses any change to what it keeps', () => {
    const unknownType = { ...STREAM[0], event: { ...STREAM[0].event, id: 'api/req-new', type: 'com.huaweicloud.evs.api.called.v2' } };
    const { db, store, processor } = auditLog('once', [...STREAM, ...STREAM, unknownType]);

    expect(store.query({ limit: 100 }).entries).toHaveLength(STREAM.length);
    expect(processor.metrics().since_start).toMatchObject({ processed: STREAM.length, duplicates: STREAM.length, skipped: { unknown: 1 } });
    expect(() => db.prepare("UPDATE audit_events SET actor_project_id = 'x'").run()).toThrow(/audit_events is append-only/);
    expect(() => db.prepare('DELETE FROM audit_events').run()).toThrow(/audit_events is append-only/);
    expect(() => db.prepare('DELETE FROM audit_event_projects').run()).toThrow(/audit_event_projects is append-only/);
  });
});
