import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_ACTIONS, apiAuditRecord, type OutgoingRecord } from '../../../../libs/contracts/src/events';
import { AuditOutbox } from './audit-outbox';

function record(requestId: string): OutgoingRecord {
  return apiAuditRecord({
    requestId,
    at: 1_700_000_000_000,
    action: API_ACTIONS.create,
    actor: { projectId: 'p', userId: 'u' },
    pathProjectId: 'p',
    target: { transferId: 't', volumeId: 'v' },
    outcome: { status: 202, code: null },
    sourceIp: '10.1.2.3',
  });
}

describe('AuditOutbox (a real SQLite file)', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-outbox-'));
    file = path.join(dir, 'nested', 'outbox.sqlite');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('returns rows in insertion order, deletes them only when told, and keeps the rest across a reopen', () => {
    const outbox = AuditOutbox.open(file);
    for (const id of ['r1', 'r2', 'r3']) outbox.append(record(id));
    const batch = outbox.oldest(2);
    expect(batch.map((row) => row.record)).toEqual([record('r1'), record('r2')]);
    expect(outbox.count()).toBe(3);

    outbox.removeUpTo(batch[1].seq); // acknowledged
    expect(outbox.oldest(10).map((row) => row.record.event.id)).toEqual(['api/r3']);
    outbox.append(record('r4'));
    // Not closed: the reopen sees what a killed process committed.
    const reopened = AuditOutbox.open(file);
    expect(reopened.oldest(10).map((row) => row.record.event.id)).toEqual(['api/r3', 'api/r4']);
    outbox.close();
    reopened.close();
  });

  it('never reuses a sequence number, so deleting up to an acknowledged one spares rows added meanwhile', () => {
    const outbox = AuditOutbox.open(file);
    outbox.append(record('a'));
    const [first] = outbox.oldest(1);
    outbox.removeUpTo(first.seq);
    outbox.append(record('b'));
    const [second] = outbox.oldest(1);
    expect(second.seq).toBeGreaterThan(first.seq);
    outbox.removeUpTo(first.seq);
    expect(outbox.count()).toBe(1);
    outbox.close();
  });

  it('reads as empty once closed', () => {
    const outbox = AuditOutbox.open(file);
    outbox.append(record('a'));
    outbox.close();
    expect(outbox.oldest(10)).toEqual([]);
    expect(outbox.count()).toBe(0);
    expect(() => outbox.removeUpTo(1)).not.toThrow();
  });
});
