import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DiskRepository } from './disk.repository';
import type { DiskCopiesTable, InventorySchema } from './inventory.schema';
import type { InventoryStore } from './inventory.store';
import { refused, success, type Clock, type Outcome } from './store.types';

/** A snapshot or a backup: a copy of a disk's data that blocks the disk's transfer. */
export interface DiskCopyRecord {
  id: string;
  diskId: string;
  projectId: string;
  name: string | null;
  sizeGb: number;
  createdAtMs: number;
}

const fromRow = (r: DiskCopiesTable): DiskCopyRecord => ({
  id: r.id,
  diskId: r.disk_id,
  projectId: r.project_id,
  name: r.name,
  sizeGb: r.size_gb,
  createdAtMs: r.created_at,
});

/**
 * Snapshots and backups behave alike here (tables of the same shape, both
 * refused while the disk awaits transfer), so one class serves both; the
 * table name is one of two literals, never caller input.
 */
export abstract class DiskCopyRepository {
  private readonly table: 'snapshots' | 'backups';

  protected constructor(
    private readonly kind: 'snapshot' | 'backup',
    private readonly store: InventoryStore,
    private readonly disks: DiskRepository,
    private readonly clock: Clock,
  ) {
    this.table = kind === 'snapshot' ? 'snapshots' : 'backups';
  }

  /** The project's copy, or null; `db` is the transaction to read in, if any. */
  async find(projectId: string, id: string, db?: Kysely<InventorySchema>): Promise<DiskCopyRecord | null> {
    const read = (on: Kysely<InventorySchema>) =>
      on.selectFrom(this.table).selectAll().where('id', '=', id).where('project_id', '=', projectId).executeTakeFirst();
    const row = await (db === undefined ? this.store.run(read) : read(db));
    return row === undefined ? null : fromRow(row);
  }

  create(projectId: string, diskId: string, name: string | null): Promise<Outcome<DiskCopyRecord>> {
    return this.disks.withDisk(projectId, diskId, this.kind, async (disk, trx) => {
      if (disk.status !== 'available' && disk.status !== 'in-use') {
        return refused('DiskStatusNotAvailable', `Volume ${diskId} is ${disk.status}; a ${this.kind} cannot be taken.`);
      }
      const id = randomUUID();
      await trx
        .insertInto(this.table)
        .values({ id, disk_id: diskId, project_id: projectId, name, size_gb: disk.sizeGb, created_at: this.clock() })
        .execute();
      const created = await this.find(projectId, id, trx);
      if (created === null) throw new Error(`${this.kind} ${id} vanished inside its own transaction`);
      return success(created);
    });
  }

  /** One DELETE: its row count says whether the project had that copy. */
  async delete(projectId: string, id: string): Promise<Outcome<void>> {
    const result = await this.store.run((db) =>
      db.deleteFrom(this.table).where('id', '=', id).where('project_id', '=', projectId).executeTakeFirst(),
    );
    if (Number(result.numDeletedRows) === 0) {
      const what = this.kind === 'snapshot' ? 'Snapshot' : 'Backup';
      return refused('NotFound', `${what} ${id} not found.`);
    }
    return success(undefined);
  }
}

export class SnapshotRepository extends DiskCopyRepository {
  constructor(store: InventoryStore, disks: DiskRepository, clock: Clock) {
    super('snapshot', store, disks, clock);
  }
}

export class BackupRepository extends DiskCopyRepository {
  constructor(store: InventoryStore, disks: DiskRepository, clock: Clock) {
    super('backup', store, disks, clock);
  }
}
