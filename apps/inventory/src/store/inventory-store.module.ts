import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { openOrExit } from '../../../../libs/database/src/open-or-exit';
import type { DatabaseTarget } from '../../../../libs/database/src/database-url';
import { BackupRepository, SnapshotRepository } from './disk-copy.repository';
import { DiskRepository } from './disk.repository';
import { createInventoryRepositories, type InventoryRepositories } from './inventory.repositories';
import { InventoryStore } from './inventory.store';
import { QuotaRepository, type QuotaLimits } from './quota.repository';
import type { Clock } from './store.types';
import { TransferLockRepository } from './transfer-lock.repository';

export interface InventoryStoreSettings {
  /** Where the inventory's tables live: config.databases.inventory, or a test's own. */
  target: DatabaseTarget;
  /** PostgreSQL connections this process may hold: config.databases.poolMax. */
  poolMax?: number;
  defaultQuota: QuotaLimits;
  /** Epoch milliseconds; tests may pass their own. */
  clock?: Clock;
}

const REPOSITORIES = Symbol('INVENTORY_REPOSITORIES');

/** Provides one repository, by its class, out of the set built over the open connection. */
function repositoryProvider<K extends keyof InventoryRepositories>(
  key: K,
  token: abstract new (...args: never[]) => InventoryRepositories[K],
): Provider {
  return { provide: token, useFactory: (repos: InventoryRepositories) => repos[key], inject: [REPOSITORIES] };
}

/** The open, migrated store (closed at shutdown) and the repositories over it. */
@Module({})
export class InventoryStoreModule {
  static forRoot(settings: InventoryStoreSettings): DynamicModule {
    const repositories = [
      repositoryProvider('disks', DiskRepository),
      repositoryProvider('transferLocks', TransferLockRepository),
      repositoryProvider('quotas', QuotaRepository),
      repositoryProvider('snapshots', SnapshotRepository),
      repositoryProvider('backups', BackupRepository),
    ];
    return {
      module: InventoryStoreModule,
      providers: [
        { provide: InventoryStore, useFactory: () => openOrExit(() => InventoryStore.open(settings.target, { poolMax: settings.poolMax })) },
        {
          provide: REPOSITORIES,
          useFactory: (store: InventoryStore) =>
            createInventoryRepositories(store, { defaultQuota: settings.defaultQuota, clock: settings.clock }),
          inject: [InventoryStore],
        },
        ...repositories,
      ],
      exports: [
        InventoryStore,
        DiskRepository,
        TransferLockRepository,
        QuotaRepository,
        SnapshotRepository,
        BackupRepository,
      ],
    };
  }
}
