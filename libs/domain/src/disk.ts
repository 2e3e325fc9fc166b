import type { ErrorName } from './errors';

/** Cinder's status names, so existing clients read them unchanged. */
export const DISK_STATUSES = ['creating', 'available', 'in-use', 'error', 'awaiting-transfer', 'deleting'] as const;
export type DiskStatus = (typeof DISK_STATUSES)[number];

export const BILLING_MODES = ['postpaid', 'prepaid'] as const;
export type BillingMode = (typeof BILLING_MODES)[number];

/** Where the disk's blocks live: the shared pool, or dedicated storage (DSS / DESS). */
export const STORAGE_KINDS = ['shared', 'dss', 'dess'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];

/** Everything the transfer constraints need to know about a disk. */
export interface DiskFacts {
  id: string;
  projectId: string;
  status: DiskStatus;
  sizeGb: number;
  volumeType: string;
  /** A system (boot) disk; only data disks may be transferred. */
  bootable: boolean;
  encrypted: boolean;
  snapshotCount: number;
  backupCount: number;
  backupPolicyId: string | null;
  replicationPairId: string | null;
  billingMode: BillingMode;
  frozen: boolean;
  storageKind: StorageKind;
  /** The transfer holding the disk while it is awaiting transfer. */
  transferId: string | null;
}

interface TransferRule {
  /** The rule's name as lifecycle.md's constraint table words it. */
  rule: string;
  error: ErrorName;
  violatedBy(disk: DiskFacts): boolean;
}

/**
 * The constraint table, in the order a caller is told about violations.
 * 'awaiting-transfer' is checked apart (diskTransferBlocker) because it has
 * its own status code (409): the disk is fine, it is simply taken.
 */
export const TRANSFER_RULES: readonly TransferRule[] = [
  { rule: 'status', error: 'DiskStatusNotAvailable', violatedBy: (d) => d.status !== 'available' },
  { rule: 'data disk only', error: 'DiskIsSystemDisk', violatedBy: (d) => d.bootable },
  { rule: 'encryption', error: 'DiskEncrypted', violatedBy: (d) => d.encrypted },
  { rule: 'snapshots', error: 'DiskHasSnapshots', violatedBy: (d) => d.snapshotCount > 0 },
  { rule: 'backups', error: 'DiskHasBackups', violatedBy: (d) => d.backupCount > 0 },
  { rule: 'backup policy', error: 'DiskHasBackupPolicy', violatedBy: (d) => d.backupPolicyId !== null },
  { rule: 'replication', error: 'DiskInReplicationPair', violatedBy: (d) => d.replicationPairId !== null },
  { rule: 'billing', error: 'DiskPrepaid', violatedBy: (d) => d.billingMode === 'prepaid' },
  { rule: 'frozen', error: 'DiskFrozen', violatedBy: (d) => d.frozen },
  { rule: 'dedicated storage', error: 'DiskOnDedicatedStorage', violatedBy: (d) => d.storageKind !== 'shared' },
];

/** Every rule the disk breaks, in table order; empty when it may be transferred. */
export function constraintViolations(disk: DiskFacts): ErrorName[] {
  return TRANSFER_RULES.filter((r) => r.violatedBy(disk)).map((r) => r.error);
}

/**
 * Why `projectId` may not start a transfer of `disk`, or null if it may.
 * A disk of another project is reported as not found so its existence does not leak.
 */
export function diskTransferBlocker(disk: DiskFacts | null, projectId: string): ErrorName | null {
  if (disk === null || disk.projectId !== projectId) return 'DiskNotFound';
  if (disk.status === 'awaiting-transfer') return 'DiskAlreadyInTransfer';
  return constraintViolations(disk)[0] ?? null;
}

/**
 * Tenant operations on a disk that the inventory refuses while the disk is
 * awaiting transfer: each would break a rule above or the transfer itself.
 */
export const OPERATIONS_REFUSED_DURING_TRANSFER = [
  'attach',
  'delete',
  'extend',
  'snapshot',
  'backup',
  'set-backup-policy',
  'encrypt',
  'change-billing',
] as const;
export type GuardedDiskOperation = (typeof OPERATIONS_REFUSED_DURING_TRANSFER)[number];
