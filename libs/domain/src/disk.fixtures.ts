import type { DiskFacts } from './disk';

/** A disk every rule allows, for unit tests to change one attribute at a time. */
export function transferableDisk(overrides: Partial<DiskFacts> = {}): DiskFacts {
  return {
    id: '3f0e4a52-9c1b-4d43-8e0b-2b7a1f9c0d11',
    projectId: 'project-a',
    status: 'available',
    sizeGb: 10,
    volumeType: 'SSD',
    bootable: false,
    encrypted: false,
    snapshotCount: 0,
    backupCount: 0,
    backupPolicyId: null,
    replicationPairId: null,
    billingMode: 'postpaid',
    frozen: false,
    storageKind: 'shared',
    transferId: null,
    ...overrides,
  };
}
