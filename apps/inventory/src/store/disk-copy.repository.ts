import { randomUUID } from 'node:crypto';
import type { DiskRepository } from './disk.repository';
import type { Sql } from './sql';
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

interface DiskCopyRow {
  id: string;
  disk_id: string;
  project_id: string;
  name: string | null;
  size_gb: number;
  created_at: number;
}

const fromRow = (r: DiskCopyRow): DiskCopyRecord => ({
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
    private readonly sql: Sql,
    private readonly disks: DiskRepository,
    private readonly clock: Clock,
  ) {
    this.table = kind === 'snapshot' ? 'snapshots' : 'backups';
  }

  find(projectId: string, id: string): DiskCopyRecord | null {
    const row = this.sql.get<DiskCopyRow>(`SELECT * FROM ${this.table} WHERE id = ? AND project_id = ?`, id, projectId);
    return row === undefined ? null : fromRow(row);
  }

  create(projectId: string, diskId: string, name: string | null): Outcome<DiskCopyRecord> {
    return this.disks.withDisk(projectId, diskId, this.kind, (disk) => {
      if (disk.status !== 'available' && disk.status !== 'in-use') {
        return refused('DiskStatusNotAvailable', `Volume ${diskId} is ${disk.status}; a ${this.kind} cannot be taken.`);
      }
      const id = randomUUID();
      this.sql.run(
        `INSERT INTO ${this.table} (id, disk_id, project_id, name, size_gb, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
        id,
        diskId,
        projectId,
        name,
        disk.sizeGb,
        this.clock(),
      );
      const created = this.find(projectId, id);
      if (created === null) throw new Error(`${this.kind} ${id} vanished inside its own transaction`);
      return success(created);
    });
  }

  delete(projectId: string, id: string): Outcome<void> {
    const changed = this.sql.run(`DELETE FROM ${this.table} WHERE id = ? AND project_id = ?`, id, projectId);
    if (changed === 0) {
      const what = this.kind === 'snapshot' ? 'Snapshot' : 'Backup';
      return refused('NotFound', `${what} ${id} not found.`);
    }
    return success(undefined);
  }
}

export class SnapshotRepository extends DiskCopyRepository {
  constructor(sql: Sql, disks: DiskRepository, clock: Clock) {
    super('snapshot', sql, disks, clock);
  }
}

export class BackupRepository extends DiskCopyRepository {
  constructor(sql: Sql, disks: DiskRepository, clock: Clock) {
    super('backup', sql, disks, clock);
  }
}
