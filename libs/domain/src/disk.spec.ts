import { describe, expect, it } from 'vitest';
import { constraintViolations, type DiskFacts, diskTransferBlocker, TRANSFER_RULES } from './disk';
import { transferableDisk } from './disk.fixtures';
import { ERROR_CATALOGUE } from './errors';

const transferable = transferableDisk();

const cases: Array<[string, Partial<DiskFacts>, string]> = [
  ['status: attached', { status: 'in-use' }, 'DiskStatusNotAvailable'],
  ['status: creating', { status: 'creating' }, 'DiskStatusNotAvailable'],
  ['status: error', { status: 'error' }, 'DiskStatusNotAvailable'],
  ['data disk only', { bootable: true }, 'DiskIsSystemDisk'],
  ['encryption', { encrypted: true }, 'DiskEncrypted'],
  ['snapshots', { snapshotCount: 1 }, 'DiskHasSnapshots'],
  ['backups', { backupCount: 2 }, 'DiskHasBackups'],
  ['backup policy', { backupPolicyId: 'policy-1' }, 'DiskHasBackupPolicy'],
  ['replication', { replicationPairId: 'pair-1' }, 'DiskInReplicationPair'],
  ['billing', { billingMode: 'prepaid' }, 'DiskPrepaid'],
  ['frozen', { frozen: true }, 'DiskFrozen'],
  ['dedicated storage: DSS', { storageKind: 'dss' }, 'DiskOnDedicatedStorage'],
  ['dedicated storage: DESS', { storageKind: 'dess' }, 'DiskOnDedicatedStorage'],
];

describe('transfer constraints', () => {
  it('lets a plain available data disk through', () => {
    expect(constraintViolations(transferable)).toEqual([]);
    expect(diskTransferBlocker(transferable, 'project-a')).toBeNull();
  });

  it.each(cases)('refuses %s with its own error', (_rule, change, error) => {
    expect(diskTransferBlocker({ ...transferable, ...change }, 'project-a')).toBe(error);
  });

  it('gives every rule its own public code', () => {
    const codes = TRANSFER_RULES.map((r) => ERROR_CATALOGUE[r.error].code);
    expect(new Set(codes).size).toBe(TRANSFER_RULES.length);
  });

  it('reports a disk already awaiting transfer as a conflict, not a status violation', () => {
    expect(diskTransferBlocker({ ...transferable, status: 'awaiting-transfer' }, 'project-a')).toBe(
      'DiskAlreadyInTransfer',
    );
  });

  it("hides another project's disk as not found", () => {
    expect(diskTransferBlocker(transferable, 'project-b')).toBe('DiskNotFound');
    expect(diskTransferBlocker(null, 'project-a')).toBe('DiskNotFound');
  });

  it('lists every violation in table order', () => {
    expect(constraintViolations({ ...transferable, encrypted: true, frozen: true, bootable: true })).toEqual([
      'DiskIsSystemDisk',
      'DiskEncrypted',
      'DiskFrozen',
    ]);
  });
});
