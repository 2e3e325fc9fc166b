import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DiskFacts } from '../../domain/src/disk';
import { DEFAULT_TRANSFER_POLICY, evolveAll, initialState, type PublishedTransferEvent, type TransferEvent } from '../../domain/src/transfer';
import { apiAuditRecord, AUDITED_ACTIONS, CLOUD_EVENT_TYPES, TOPICS, transferEventRecord } from './events';

const disk = { id: 'd-1', projectId: 'a', sizeGb: 40, volumeType: 'SAS' } as DiskFacts;
const state = evolveAll(
  initialState({
    transferId: 'tr-1',
    volumeId: 'd-1',
    name: 'move',
    owner: { projectId: 'a', userId: 'alice', requestId: 'req-1' },
    createdAtMs: Date.UTC(2026, 10, 28),
    authKeyHash: 'secret-hash',
    policy: DEFAULT_TRANSFER_POLICY,
  }),
  [{ type: 'TransferCreated', at: 1, disk }],
);
const bob = { projectId: 'b', userId: 'bob', requestId: 'req-2' };

describe('transfer event records', () => {
  it('keys by disk and gives a stable id per transfer and type', () => {
    const accepted: TransferEvent = { type: 'TransferAccepted', at: Date.UTC(2026, 10, 29), recipient: bob, disk };
    const first = transferEventRecord(state, accepted);
    const again = transferEventRecord(state, accepted);
    expect(first.key).toBe('d-1');
    expect(first.topic).toBe(TOPICS.lifecycle);
    expect(first.event.id).toBe('tr-1/accepted');
    expect(again.event.id).toBe(first.event.id);
    expect(first.event.type).toBe(CLOUD_EVENT_TYPES.TransferAccepted);
    expect(first.event.data).toMatchObject({
      source_project_id: 'a',
      destination_project_id: 'b',
      destination_user_id: 'bob',
      volume_size_gb: 40,
      volume_type: 'SAS',
      accepted_at: '2026-11-29T00:00:00.000000',
    });
  });

  it('numbers failed attempts so each is its own event, on the security topic', () => {
    const failed = (attempt: number): PublishedTransferEvent => ({
      type: 'AcceptAttemptFailed',
      at: 5,
      actor: bob,
      reason: 'InvalidAuthKey',
      attempt,
    });
    const one = transferEventRecord(state, failed(1));
    const two = transferEventRecord(state, failed(2));
    expect(one.topic).toBe(TOPICS.securityAudit);
    expect([one.event.id, two.event.id]).toEqual(['tr-1/accept_failed/1', 'tr-1/accept_failed/2']);
  });

  it('names who deleted the transfer, and says whether it was an administrator’s force-delete', () => {
    const admin = { projectId: 'ops', userId: 'root', requestId: 'req-force' };
    const record = transferEventRecord(state, { type: 'TransferDeleted', at: Date.UTC(2026, 10, 29), actor: admin, forced: true });
    expect(record.event.id).toBe('tr-1/deleted');
    expect(record.event.data).toMatchObject({
      source_project_id: 'a',
      deleted_by_project_id: 'ops',
      deleted_by_user_id: 'root',
      request_id: 'req-force',
      forced: true,
    });
    const byOwner = transferEventRecord(state, { type: 'TransferDeleted', at: 3, actor: { ...admin, projectId: 'a' }, forced: false });
    expect(byOwner.event.data).toMatchObject({ forced: false });
  });

  it('never carries the key hash', () => {
    const events: TransferEvent[] = [
      { type: 'TransferCreated', at: 1, disk },
      { type: 'TransferAccepted', at: 2, recipient: bob, disk },
      { type: 'TransferDeleted', at: 3, actor: bob, forced: false },
      { type: 'TransferExpired', at: 4 },
      { type: 'TransferCreateRejected', at: 5, reason: 'DiskFrozen' },
      { type: 'AcceptAttemptFailed', at: 6, actor: bob, reason: 'InvalidAuthKey', attempt: 1 },
      { type: 'TransferLockedOut', at: 7, until: 8, lockouts: 1 },
    ];
    for (const e of events) {
      expect(JSON.stringify(transferEventRecord(state, e as never))).not.toContain('secret-hash');
    }
  });

  it('audits an API call with its outcome', () => {
    const record = apiAuditRecord({
      requestId: 'req-9',
      at: 0,
      action: 'evs:transfers:accept',
      actor: { projectId: 'b', userId: 'bob' },
      pathProjectId: 'b',
      target: { transferId: 'tr-1', volumeId: null },
      outcome: { status: 400, code: 'EVS.5440' },
      sourceIp: '127.0.0.1',
    });
    expect(record.topic).toBe(TOPICS.apiAudit);
    expect(record.event.id).toBe('api/req-9');
    expect(record.event.data).toMatchObject({ outcome: 'failure', error_code: 'EVS.5440', action: 'evs:transfers:accept' });
  });
});

describe('docs/asyncapi.yaml', () => {
  it('lists exactly the audited actions as the API audit record’s action values', () => {
    const text = fs.readFileSync(path.resolve(__dirname, '../../../docs/asyncapi.yaml'), 'utf8');
    const apiCalled = text.slice(text.indexOf('    ApiCalled:'));
    const values = /\n {10}action:\n {12}type: string\n {12}enum:\n((?: {14}- '[^']+'\n)+)/.exec(apiCalled)?.[1] ?? '';
    expect([...values.matchAll(/'([^']+)'/g)].map((m) => m[1]).sort()).toEqual([...AUDITED_ACTIONS].sort());
  });
});
