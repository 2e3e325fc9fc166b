import { describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../libs/contracts/src/events';
import type { DiskFacts } from '../libs/domain/src/disk';
import { transferableDisk } from '../libs/domain/src/disk.fixtures';
import type { RecordedTransferStatus } from '../libs/domain/src/reconciliation';
import { createReconcilerActivities, type FindingLedgerPort, type FoundWorkflow, type ListedPendingTransfer } from './reconciler.activities';

const T1 = '11111111-1111-4111-8111-111111111111';
const T2 = '22222222-2222-4222-8222-222222222222';
const diskOf = (id: string, transferId: string | null, projectId = 'project-a'): DiskFacts =>
  transferableDisk({ id, projectId, status: transferId === null ? 'available' : 'awaiting-transfer', transferId });
const running: FoundWorkflow = { found: true, run: 'running', state: 'pending', diskId: 'd1', sourceProjectId: 'project-a', destinationProjectId: null };
const closed: FoundWorkflow = { ...running, run: 'terminated' };

/** The ledger's contract over a set of reported ids: kept only once the announcement resolved. */
function ledgerIn(reported: Set<string>): FindingLedgerPort {
  return {
    async announceOnce(ids, _atMs, announce) {
      const fresh = ids.filter((id) => !reported.has(id));
      await announce(fresh);
      for (const id of fresh) reported.add(id);
      return fresh;
    },
  };
}

/**
 * Ports that record every call in order, so a test can check what was read
 * before what: the checks in libs/domain rely on that order.
 */
function fakes(options: {
  locks?: DiskFacts[];
  disks?: Record<string, DiskFacts | null>;
  workflows?: Record<string, FoundWorkflow | null>;
  pending?: ListedPendingTransfer[];
  recorded?: Record<string, RecordedTransferStatus>;
  reported?: string[];
  releases?: boolean;
}) {
  const calls: string[] = [];
  const published: OutgoingRecord[] = [];
  const ledger = new Set(options.reported ?? []);
  const activities = createReconcilerActivities({
    inventory: {
      async listTransferLocks(page = {}) {
        calls.push(`list-locks ${page.marker ?? '-'} ${page.limit ?? '-'}`);
        return { disks: options.locks ?? [], nextMarker: 'next' };
      },
      async getDisk(id) {
        calls.push(`disk ${id}`);
        return options.disks?.[id] ?? null;
      },
      async releaseTransferLock(input) {
        calls.push(`release ${input.diskId} ${input.transferId}`);
        return { released: options.releases ?? true, disk: null };
      },
    },
    workflows: {
      async describe(transferId) {
        calls.push(`describe ${transferId}`);
        return options.workflows?.[transferId] ?? null;
      },
      async listPending(page) {
        calls.push(`list-pending ${page.pageToken ?? '-'}`);
        return { transfers: options.pending ?? [], nextPageToken: null };
      },
    },
    records: { recordedStatus: async (id) => options.recorded?.[id] ?? null },
    ledger: ledgerIn(ledger),
    publisher: {
      async publish(records) {
        calls.push(`publish ${records.length}`);
        published.push(...records);
      },
    },
    now: () => 7,
  });
  return { activities, calls, published, ledger };
}

describe('reconciler activities', () => {
  it('looks each lock’s workflow up after the listing, and reads the disk again only when none runs', async () => {
    const { activities, calls } = fakes({
      locks: [diskOf('d1', T1), diskOf('d2', T2)],
      workflows: { [T1]: running, [T2]: closed },
      disks: { d2: diskOf('d2', T2) },
    });
    const page = await activities.inspectTransferLocks({ marker: 'm', limit: 50 });
    expect(calls[0]).toBe('list-locks m 50');
    expect(calls.indexOf(`describe ${T2}`)).toBeLessThan(calls.indexOf('disk d2'));
    expect(calls).not.toContain('disk d1');
    // d1's transfer runs and holds its lock: counted, not returned. d2's ended and still holds its lock.
    expect(page).toEqual({
      nextMarker: 'next',
      checked: 2,
      checks: [{ diskId: 'd2', transferId: T2, workflow: closed, disk: { id: 'd2', projectId: 'project-a', status: 'awaiting-transfer', transferId: T2 } }],
    });
  });

  it('returns no lock whose check finds nothing, however many were checked', async () => {
    const { activities } = fakes({
      locks: [diskOf('d1', T1), diskOf('d2', T2)],
      workflows: { [T1]: running, [T2]: closed },
      disks: { d2: diskOf('d2', null) },
    });
    expect(await activities.inspectTransferLocks({ marker: null, limit: 50 })).toEqual({ nextMarker: 'next', checked: 2, checks: [] });
  });

  it('adds what the read model recorded when a transfer has no workflow', async () => {
    const { activities } = fakes({ locks: [diskOf('d1', T1)], disks: { d1: diskOf('d1', T1) }, recorded: { [T1]: 'accepted' } });
    const { checks } = await activities.inspectTransferLocks({ marker: null, limit: 10 });
    expect(checks[0]?.workflow).toEqual({ found: false, recordedStatus: 'accepted' });
  });

  it('reads a pending transfer’s disk before looking its workflow up again, and returns it only when the lock is not its', async () => {
    const listed = { transferId: T1, diskId: 'd1', sourceProjectId: 'project-a' };
    const { activities, calls } = fakes({ pending: [listed], workflows: { [T1]: running }, disks: { d1: diskOf('d1', null) } });
    const page = await activities.inspectPendingTransfers({ pageToken: 'tok', limit: 10 });
    expect(calls).toEqual(['list-pending tok', 'disk d1', `describe ${T1}`]);
    expect(page).toEqual({
      nextPageToken: null,
      checked: 1,
      checks: [{ ...listed, workflow: running, disk: { id: 'd1', projectId: 'project-a', status: 'available', transferId: null } }],
    });
    const locked = fakes({ pending: [listed], workflows: { [T1]: running }, disks: { d1: diskOf('d1', T1) } });
    expect(await locked.activities.inspectPendingTransfers({ pageToken: null, limit: 10 })).toEqual({ nextPageToken: null, checked: 1, checks: [] });
  });

  it('releases only when the transfer is still not running, and says what the inventory answered', async () => {
    const input = { diskId: 'd1', transferId: T1 };
    expect(await fakes({ workflows: { [T1]: running } }).activities.releaseLockOfEndedTransfer(input)).toBe('transfer_running');
    const gone = fakes({ workflows: { [T1]: closed }, releases: false });
    expect(await gone.activities.releaseLockOfEndedTransfer(input)).toBe('lock_already_gone');
    const absent = fakes({});
    expect(await absent.activities.releaseLockOfEndedTransfer(input)).toBe('released');
    expect(absent.calls).toEqual([`describe ${T1}`, `release d1 ${T1}`]);
  });

  it('publishes only findings never published before, then remembers them', async () => {
    const record = (id: string) => ({ topic: 'evs.transfer.operations.v1', key: 'd', event: { id } }) as OutgoingRecord;
    const { activities, published, ledger } = fakes({ reported: ['old'] });
    expect(await activities.publishFindings([record('old'), record('new')])).toEqual({ published: ['new'] });
    expect(published.map((r) => r.event.id)).toEqual(['new']);
    expect(ledger.has('new')).toBe(true);
    expect(await activities.publishFindings([record('new')])).toEqual({ published: [] });
    expect(published).toHaveLength(1);
  });

  it('does not remember a finding whose publish failed', async () => {
    const ledger = new Set<string>();
    const activities = createReconcilerActivities({
      inventory: {} as never,
      workflows: {} as never,
      records: { recordedStatus: async () => null },
      ledger: ledgerIn(ledger),
      publisher: {
        async publish() {
          throw new Error('broker down');
        },
      },
    });
    const record = { topic: 'evs.transfer.operations.v1', key: 'd', event: { id: 'x' } } as OutgoingRecord;
    await expect(activities.publishFindings([record])).rejects.toThrow('broker down');
    expect(ledger.size).toBe(0);
  });
});
