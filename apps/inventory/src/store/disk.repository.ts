import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction, Updateable } from 'kysely';
import {
  OPERATIONS_REFUSED_DURING_TRANSFER,
  type BillingMode,
  type GuardedDiskOperation,
  type StorageKind,
} from '../../../../libs/domain/src/disk';
import type { CreatableStatus } from '../../../../libs/inventory-client/src/inventory.wire';
import type { DisksTable, InventorySchema } from './inventory.schema';
import type { InventoryStore } from './inventory.store';
import type { QuotaRepository } from './quota.repository';
import { diskRecordFromRow, refused, success, type Clock, type DiskRecord, type Outcome } from './store.types';

/** Every tenant operation on one disk; the domain decides which are refused during a transfer. */
export type DiskOperation = GuardedDiskOperation | 'detach' | 'freeze';

function isRefusedDuringTransfer(operation: DiskOperation): boolean {
  return (OPERATIONS_REFUSED_DURING_TRANSFER as readonly string[]).includes(operation);
}

export interface NewDisk {
  id?: string;
  name: string | null;
  sizeGb: number;
  volumeType: string;
  bootable: boolean;
  encrypted: boolean;
  billingMode: BillingMode;
  frozen: boolean;
  storageKind: StorageKind;
  backupPolicyId: string | null;
  replicationPairId: string | null;
  status: CreatableStatus;
}

export interface Page {
  limit: number;
  offset: number;
}

export interface KeyPage {
  /** The last id of the previous page; null for the first. */
  after: string | null;
  limit: number;
}

/** Live disks with the snapshot and backup counts the constraints need. */
function liveDisks(db: Kysely<InventorySchema>) {
  return db
    .selectFrom('disks as d')
    .selectAll('d')
    .select((eb) => [
      eb
        .selectFrom('snapshots as s')
        .select((sb) => sb.fn.countAll<number>().as('n'))
        .whereRef('s.disk_id', '=', 'd.id')
        .as('snapshot_count'),
      eb
        .selectFrom('backups as b')
        .select((sb) => sb.fn.countAll<number>().as('n'))
        .whereRef('b.disk_id', '=', 'd.id')
        .as('backup_count'),
    ])
    .where('d.deleted_at', 'is', null);
}

const asFlag = (value: boolean): number => (value ? 1 : 0);

/**
 * Disks and the tenant operations on them. Each mutation is one transaction
 * that holds the disk (see InventoryStore), reads it, checks, and writes, so
 * a check cannot be overtaken by another writer: a transfer lock taken
 * between a snapshot's check and its insert, say.
 */
export class DiskRepository {
  constructor(
    private readonly store: InventoryStore,
    private readonly quotas: QuotaRepository,
    private readonly clock: Clock,
  ) {}

  /** The live disk, or null; `db` is the transaction to read in, if any. */
  async find(diskId: string, db?: Kysely<InventorySchema>): Promise<DiskRecord | null> {
    const read = (on: Kysely<InventorySchema>) => liveDisks(on).where('d.id', '=', diskId).executeTakeFirst();
    const row = await (db === undefined ? this.store.run(read) : read(db));
    return row === undefined ? null : diskRecordFromRow(row);
  }

  /** The disk if it is live and `projectId` owns it; another project's disk is not found. */
  async findOwned(projectId: string, diskId: string, db?: Kysely<InventorySchema>): Promise<DiskRecord | null> {
    const disk = await this.find(diskId, db);
    return disk !== null && disk.projectId === projectId ? disk : null;
  }

  async list(projectId: string, page: Page): Promise<DiskRecord[]> {
    const rows = await this.store.run((db) =>
      liveDisks(db)
        .where('d.project_id', '=', projectId)
        .orderBy('d.created_at')
        .orderBy('d.id')
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
    );
    return rows.map(diskRecordFromRow);
  }

  /**
   * Every project's disks awaiting transfer, in id order, after `after`.
   * Paged by key rather than offset: a lock released while a caller walks
   * the pages does not shift the ones it has not read yet.
   */
  async listAwaitingTransfer(page: KeyPage): Promise<DiskRecord[]> {
    const rows = await this.store.run((db) =>
      liveDisks(db)
        .where('d.status', '=', 'awaiting-transfer')
        .where('d.id', '>', page.after ?? '')
        .orderBy('d.id')
        .limit(page.limit)
        .execute(),
    );
    return rows.map(diskRecordFromRow);
  }

  create(projectId: string, disk: NewDisk): Promise<Outcome<DiskRecord>> {
    return this.store.transaction(async (trx) => {
      const id = disk.id ?? randomUUID();
      const taken = () => refused<DiskRecord>('BadRequest', `A volume with id ${id} already exists or existed.`);
      // Deleted disks keep their rows, so an id is never handed out twice.
      if ((await trx.selectFrom('disks').select('id').where('id', '=', id).executeTakeFirst()) !== undefined) return taken();
      const quota = await this.quotas.refusalToHold(trx, projectId, disk.sizeGb);
      if (quota !== null) return refused(quota.name, quota.message);
      const now = this.clock();
      const inserted = await trx
        .insertInto('disks')
        .values({
          id,
          project_id: projectId,
          name: disk.name,
          status: disk.status,
          size_gb: disk.sizeGb,
          volume_type: disk.volumeType,
          bootable: asFlag(disk.bootable),
          encrypted: asFlag(disk.encrypted),
          backup_policy_id: disk.backupPolicyId,
          replication_pair_id: disk.replicationPairId,
          billing_mode: disk.billingMode,
          frozen: asFlag(disk.frozen),
          storage_kind: disk.storageKind,
          transfer_id: null,
          last_transfer_id: null,
          attached_to: null,
          created_at: now,
          updated_at: now,
          deleted_at: null,
        })
        // Another project's create of the same id may have committed since the check above.
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) return taken();
      return success(await this.reread(id, trx));
    });
  }

  /**
   * Runs `work` on a live disk of `projectId` inside one transaction that
   * holds the disk, after refusing what the domain forbids while the disk is
   * awaiting transfer. Snapshots and backups use it too.
   */
  withDisk<T>(
    projectId: string,
    diskId: string,
    operation: DiskOperation,
    work: (disk: DiskRecord, trx: Transaction<InventorySchema>) => Promise<Outcome<T>>,
  ): Promise<Outcome<T>> {
    return this.store.transaction(async (trx) => {
      await this.store.holdDisk(trx, diskId);
      const disk = await this.findOwned(projectId, diskId, trx);
      if (disk === null) return refused('DiskNotFound');
      if (disk.status === 'awaiting-transfer' && isRefusedDuringTransfer(operation)) {
        const message = `Volume ${diskId} is awaiting transfer; ${operation} is refused until the transfer ends.`;
        return refused('DiskBusy', message);
      }
      return work(disk, trx);
    });
  }

  /** Leaves a tombstone (status 'deleting', deleted_at set); usage no longer counts it. */
  delete(projectId: string, diskId: string): Promise<Outcome<void>> {
    return this.withDisk(projectId, diskId, 'delete', async (disk, trx) => {
      if (disk.status === 'in-use') {
        return refused('DiskStatusNotAvailable', `Volume ${diskId} is attached; detach it before deleting it.`);
      }
      if (disk.snapshotCount > 0) {
        return refused('DiskHasSnapshots', `Volume ${diskId} has snapshots; delete them before deleting it.`);
      }
      const now = this.clock();
      await trx.updateTable('disks').set({ status: 'deleting', deleted_at: now, updated_at: now }).where('id', '=', diskId).execute();
      return success(undefined);
    });
  }

  attach(projectId: string, diskId: string, serverId: string): Promise<Outcome<DiskRecord>> {
    return this.withDisk(projectId, diskId, 'attach', async (disk, trx) => {
      if (disk.status === 'in-use' && disk.attachedTo === serverId) return success(disk);
      if (disk.status !== 'available') {
        const message = `Volume ${diskId} is ${disk.status}; only an available volume can be attached.`;
        return refused('DiskStatusNotAvailable', message);
      }
      return success(await this.update(trx, diskId, { status: 'in-use', attached_to: serverId, updated_at: this.clock() }));
    });
  }

  detach(projectId: string, diskId: string): Promise<Outcome<DiskRecord>> {
    return this.withDisk(projectId, diskId, 'detach', async (disk, trx) => {
      if (disk.status !== 'in-use') {
        return refused('DiskStatusNotAvailable', `Volume ${diskId} is ${disk.status}, not attached.`);
      }
      return success(await this.update(trx, diskId, { status: 'available', attached_to: null, updated_at: this.clock() }));
    });
  }

  extend(projectId: string, diskId: string, newSizeGb: number): Promise<Outcome<DiskRecord>> {
    return this.withDisk(projectId, diskId, 'extend', async (disk, trx) => {
      if (disk.status !== 'available' && disk.status !== 'in-use') {
        return refused('DiskStatusNotAvailable', `Volume ${diskId} is ${disk.status}; it cannot be extended.`);
      }
      if (newSizeGb <= disk.sizeGb) {
        return refused('BadRequest', `new_size must be greater than the current size (${disk.sizeGb} GB).`);
      }
      const quota = await this.quotas.refusalToHold(trx, projectId, newSizeGb, diskId);
      if (quota !== null) return refused(quota.name, quota.message);
      return success(await this.update(trx, diskId, { size_gb: newSizeGb, updated_at: this.clock() }));
    });
  }

  setBackupPolicy(projectId: string, diskId: string, policyId: string | null): Promise<Outcome<DiskRecord>> {
    return this.withDisk(projectId, diskId, 'set-backup-policy', async (_disk, trx) =>
      success(await this.update(trx, diskId, { backup_policy_id: policyId, updated_at: this.clock() })),
    );
  }

  setEncryption(projectId: string, diskId: string, encrypted: boolean): Promise<Outcome<DiskRecord>> {
    return this.withDisk(projectId, diskId, 'encrypt', async (_disk, trx) =>
      success(await this.update(trx, diskId, { encrypted: asFlag(encrypted), updated_at: this.clock() })),
    );
  }

  changeBilling(projectId: string, diskId: string, billingMode: BillingMode): Promise<Outcome<DiskRecord>> {
    return this.withDisk(projectId, diskId, 'change-billing', async (_disk, trx) =>
      success(await this.update(trx, diskId, { billing_mode: billingMode, updated_at: this.clock() })),
    );
  }

  /** Not refused during a transfer: an operator may freeze any disk; reassign then refuses it. */
  setFrozen(projectId: string, diskId: string, frozen: boolean): Promise<Outcome<DiskRecord>> {
    return this.withDisk(projectId, diskId, 'freeze', async (_disk, trx) =>
      success(await this.update(trx, diskId, { frozen: asFlag(frozen), updated_at: this.clock() })),
    );
  }

  /** Reads a disk this transaction has just written; its absence is a bug, not an outcome. */
  async reread(diskId: string, trx: Kysely<InventorySchema>): Promise<DiskRecord> {
    const disk = await this.find(diskId, trx);
    if (disk === null) throw new Error(`Disk ${diskId} vanished inside its own transaction`);
    return disk;
  }

  /** Writes `change` to a disk the transaction holds, and answers the disk as it now is. */
  private async update(trx: Transaction<InventorySchema>, diskId: string, change: Updateable<DisksTable>): Promise<DiskRecord> {
    await trx.updateTable('disks').set(change).where('id', '=', diskId).execute();
    return this.reread(diskId, trx);
  }
}
