import { describe, expect, it } from 'vitest';
import type { DiskFacts } from '../../domain/src/disk';
import { fromCinderTimestamp, toCinderTimestamp } from '../../domain/src/ids';
import { DEFAULT_TRANSFER_POLICY, evolveAll, initialState, type PublishedTransferEvent } from '../../domain/src/transfer';
import { API_ACTIONS, apiAuditRecord, CLOUD_EVENT_TYPES, transferEventRecord } from './events';
import { EVENT_DATA_SCHEMAS, readEventData } from './event-data';

const disk = { id: 'd-1', projectId: 'a', sizeGb: 40, volumeType: 'SAS' } as DiskFacts;
const state = evolveAll(
  initialState({
    transferId: 'tr-1',
    volumeId: 'd-1',
    name: null,
    owner: { projectId: 'a', userId: 'alice', requestId: 'req-1' },
    createdAtMs: Date.UTC(2026, 10, 28),
    authKeyHash: 'secret-hash',
    policy: DEFAULT_TRANSFER_POLICY,
  }),
  [{ type: 'TransferCreated', at: 1, disk }],
);
const bob = { projectId: 'b', userId: 'bob', requestId: 'req-2' };

/** The data as a consumer receives it: through JSON. */
function wireData(event: PublishedTransferEvent): Record<string, unknown> {
  return JSON.parse(JSON.stringify(transferEventRecord(state, event).event.data));
}

const published: PublishedTransferEvent[] = [
  { type: 'TransferCreated', at: 1, disk },
  { type: 'TransferCreateRejected', at: 2, reason: 'DiskFrozen' },
  { type: 'TransferAccepted', at: 3, recipient: bob, disk },
  { type: 'TransferDeleted', at: 4, actor: bob, forced: true },
  { type: 'TransferExpired', at: 5 },
  { type: 'AcceptAttemptFailed', at: 6, actor: bob, reason: 'InvalidAuthKey', attempt: 1 },
  { type: 'TransferLockedOut', at: 7, until: 8, lockouts: 1 },
];

describe('readEventData', () => {
  it('accepts the data of every event the service publishes', () => {
    const records = [
      ...published.map((event) => transferEventRecord(state, event)),
      apiAuditRecord({
        requestId: 'req-9',
        at: 9,
        action: API_ACTIONS.create,
        actor: { projectId: null, userId: null },
        pathProjectId: 'a',
        target: { transferId: null, volumeId: null },
        outcome: { status: 401, code: 'EVS.5401' },
        sourceIp: null,
      }),
    ];
    const types = records.map((record) => record.event.type);

    expect(new Set(types)).toEqual(new Set(Object.keys(EVENT_DATA_SCHEMAS)));
    for (const { event } of records) {
      expect(readEventData(event.type, event.data), event.type).toMatchObject({ kind: 'known', event: { type: event.type } });
    }
  });

  it('calls a type it does not know unknown, a newer version of a known one included', () => {
    expect(readEventData('com.huaweicloud.evs.transfer.accepted.v2', {})).toEqual({
      kind: 'unknown',
      detail: 'unknown event type com.huaweicloud.evs.transfer.accepted.v2',
    });
  });

  it('calls data missing a required field, or with a field of the wrong kind, invalid and names the field', () => {
    const accepted = wireData(published[2]);
    const { destination_project_id: _dropped, ...withoutDestination } = accepted;

    expect(readEventData(CLOUD_EVENT_TYPES.TransferAccepted, withoutDestination)).toMatchObject({
      kind: 'invalid',
      detail: expect.stringContaining('destination_project_id'),
    });
    expect(readEventData(CLOUD_EVENT_TYPES.TransferAccepted, { ...accepted, accepted_at: '2026-11-29T00:00:00Z' })).toMatchObject({
      kind: 'invalid',
      detail: expect.stringContaining('accepted_at'),
    });
    expect(readEventData(CLOUD_EVENT_TYPES.TransferAccepted, 'not an object')).toMatchObject({ kind: 'invalid' });
  });

  it('keeps fields it does not know, so a richer producer of the same version is no reason to refuse', () => {
    const created = wireData(published[0]);
    const read = readEventData(CLOUD_EVENT_TYPES.TransferCreated, { ...created, availability_zone: 'az-1' });

    expect(read).toMatchObject({ kind: 'known', event: { data: { availability_zone: 'az-1' } } });
  });
});

describe('fromCinderTimestamp', () => {
  it('reads back what toCinderTimestamp writes, as UTC', () => {
    const at = Date.UTC(2026, 10, 28, 9, 29, 46, 743);

    expect(fromCinderTimestamp(toCinderTimestamp(at))).toBe(at);
    expect(fromCinderTimestamp('2026-01-01T00:00:00.000000')).toBe(Date.UTC(2026, 0, 1));
  });

  it('refuses anything else', () => {
    for (const text of ['2026-01-01T00:00:00Z', '2026-01-01', 'yesterday', '2026-13-45T99:99:99.000000']) {
      expect(fromCinderTimestamp(text), text).toBeNull();
    }
  });
});
