import type { Database } from 'better-sqlite3';
import { BackupRepository, SnapshotRepository } from './disk-copy.repository';
import { DiskRepository } from './disk.repository';
import { QuotaRepository, type QuotaLimits } from './quota.repository';
import { Sql } from './sql';
import type { Clock } from './store.types';
import { TransferLockRepository } from './transfer-lock.repository';

export interface InventoryRepositories {
  disks: DiskRepository;
  transferLocks: TransferLockRepository;
  quotas: QuotaRepository;
  snapshots: SnapshotRepository;
  backups: BackupRepository;
}

/** Wires the repositories over one connection, so they can share a transaction. */
export function createInventoryRepositories(
  db: Database,
  options: { defaultQuota: QuotaLimits; clock?: Clock },
): InventoryRepositories {
  const clock = options.clock ?? Date.now;
  const sql = new Sql(db);
  const quotas = new QuotaRepository(sql, options.defaultQuota, clock);
  const disks = new DiskRepository(sql, quotas, clock);
  return {
    disks,
    quotas,
    transferLocks: new TransferLockRepository(sql, disks, quotas, clock),
    snapshots: new SnapshotRepository(sql, disks, clock),
    backups: new BackupRepository(sql, disks, clock),
  };
}
