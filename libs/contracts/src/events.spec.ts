import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DiskFacts } from '../../domain/src/disk';
import { FINDING_KINDS, type ReconcileFinding } from '../../domain/src/reconciliation';
import { DEFAULT_TRANSFER_POLICY, evolveAll, initialState, type PublishedTransferEvent, type TransferEvent } from '../../domain/src/transfer';
import {
  apiAuditRecord,
  AUDITED_ACTIONS,
  CLOUD_EVENT_TYPES,
  reconcilerFindingId,
  reconcilerFindingRecord,
  TOPICS,
  transferEventRecord,
} from './events';

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

describe('reconciler finding records', () => {
  const orphan: ReconcileFinding = {
    kind: 'orphaned_lock',
    transferId: 'tr-9',
    diskId: 'd-9',
    repair: 'release_lock',
    disk: { projectId: 'a', status: 'awaiting-transfer', transferId: 'tr-9' },
    workflow: { found: false, recordedStatus: null },
  };

  it('gives a finding the same id in every run that finds it, keyed by its disk, on the operations topic', () => {
    const first = reconcilerFindingRecord({ finding: orphan, outcome: 'released', detectedAtMs: 1, runWorkflowId: 'run-1' });
    const later = reconcilerFindingRecord({ finding: orphan, outcome: 'released', detectedAtMs: 9_000, runWorkflowId: 'run-2' });
    expect(first.event.id).toBe('reconciler/tr-9/d-9/orphaned_lock');
    expect(later.event.id).toBe(first.event.id);
    expect(reconcilerFindingId({ ...orphan, kind: 'lock_outlived_transfer' })).not.toBe(first.event.id);
    expect(first).toMatchObject({
      topic: TOPICS.operations,
      key: 'd-9',
      event: { type: CLOUD_EVENT_TYPES.ReconcilerFinding, subject: 'transfers/tr-9', time: '1970-01-01T00:00:00.001Z' },
    });
  });

  it('carries both sides, the outcome and whether a person must look, in one flat shape', () => {
    const released = reconcilerFindingRecord({ finding: orphan, outcome: 'released', detectedAtMs: 0, runWorkflowId: 'run-1' });
    expect(released.event.data).toEqual({
      kind: 'orphaned_lock',
      transfer_id: 'tr-9',
      volume_id: 'd-9',
      outcome: 'released',
      needs_attention: false,
      summary: expect.stringContaining('the lock was released'),
      disk: { project_id: 'a', status: 'awaiting-transfer', transfer_id: 'tr-9' },
      workflow: {
        found: false,
        run_status: null,
        transfer_state: null,
        volume_id: null,
        source_project_id: null,
        destination_project_id: null,
        recorded_status: null,
      },
      detected_at: '1970-01-01T00:00:00.000000',
      reconcile_run_id: 'run-1',
    });
    const drift: ReconcileFinding = {
      ...orphan,
      kind: 'pending_transfer_lock_lost',
      repair: null,
      disk: { projectId: 'a', status: 'available', transferId: null },
      workflow: { found: true, run: 'running', state: 'pending', diskId: 'd-9', sourceProjectId: 'a', destinationProjectId: null },
    };
    const reported = reconcilerFindingRecord({ finding: drift, outcome: 'reported', detectedAtMs: 0, runWorkflowId: 'run-1' });
    expect(reported.event.data).toMatchObject({
      outcome: 'reported',
      needs_attention: true,
      workflow: { found: true, run_status: 'running', transfer_state: 'pending', volume_id: 'd-9', source_project_id: 'a' },
    });
  });
});

describe('docs/asyncapi.yaml', () => {
  const asyncapi = () => fs.readFileSync(path.resolve(__dirname, '../../../docs/asyncapi.yaml'), 'utf8');

  it('documents every topic and every CloudEvents type', () => {
    const text = asyncapi();
    for (const topic of Object.values(TOPICS)) expect(text).toContain(`address: ${topic}\n`);
    for (const type of Object.values(CLOUD_EVENT_TYPES)) expect(text).toContain(`name: ${type}\n`);
  });

  it('lists exactly the finding kinds as the reconciler finding’s kind values', () => {
    const finding = asyncapi().slice(asyncapi().indexOf('    ReconcilerFinding:'));
    const values = /\n {10}kind:\n {12}type: string\n {12}enum:\n((?: {14}- [a-z_]+\n)+)/.exec(finding)?.[1] ?? '';
    expect([...values.matchAll(/- ([a-z_]+)/g)].map((m) => m[1])).toEqual([...FINDING_KINDS]);
  });

  it('lists exactly the audited actions as the API audit record’s action values', () => {
    const text = fs.readFileSync(path.resolve(__dirname, '../../../docs/asyncapi.yaml'), 'utf8');
    const apiCalled = text.slice(text.indexOf('    ApiCalled:'));
    const values = /\n {10}action:\n {12}type: string\n {12}enum:\n((?: {14}- '[^']+'\n)+)/.exec(apiCalled)?.[1] ?? '';
    expect([...values.matchAll(/'([^']+)'/g)].map((m) => m[1]).sort()).toEqual([...AUDITED_ACTIONS].sort());
  });
});
