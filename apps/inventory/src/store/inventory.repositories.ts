import { BackupRepository, SnapshotRepository } from './disk-copy.repository';
import { DiskRepository } from './disk.repository';
import type { InventoryStore } from './inventory.store';
import { QuotaRepository, type QuotaLimits } from './quota.repository';
import type { Clock } from './store.types';
import { TransferLockRepository } from './transfer-lock.repository';

export interface InventoryRepositories {
  disks: DiskRepository;
  transferLocks: TransferLockRepository;
  quotas: QuotaRepository;
  snapshots: SnapshotRepository;
  backups: BackupRepository;
}

/** Wires the repositories over one store, so they can share a transaction. */
export function createInventoryRepositories(
  store: InventoryStore,
  options: { defaultQuota: QuotaLimits; clock?: Clock },
): InventoryRepositories {
  const clock = options.clock ?? Date.now;
  const quotas = new QuotaRepository(store, options.defaultQuota, clock);
  const disks = new DiskRepository(store, quotas, clock);
  return {
    disks,
    quotas,
    transferLocks: new TransferLockRepository(store, disks, quotas, clock),
    snapshots: new SnapshotRepository(store, disks, clock),
    backups: new BackupRepository(store, disks, clock),
  };
}
