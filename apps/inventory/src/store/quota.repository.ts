import type { Sql } from './sql';
import type { Clock, Refusal } from './store.types';

/** Per-project limits; -1 means unlimited, as in Cinder. */
export interface QuotaLimits {
  volumes: number;
  gigabytes: number;
}

export interface QuotaUsage {
  volumes: number;
  gigabytes: number;
}

/**
 * Limits are stored only where a project differs from the configured
 * default. Usage is computed from live disks, never counted separately, so
 * it cannot drift from them: moving a disk to another project moves its usage
 * in the same UPDATE that changes the owner.
 */
export class QuotaRepository {
  constructor(
    private readonly sql: Sql,
    private readonly defaults: QuotaLimits,
    private readonly clock: Clock,
  ) {}

  limits(projectId: string): QuotaLimits {
    const row = this.sql.get<QuotaLimits>('SELECT volumes, gigabytes FROM quotas WHERE project_id = ?', projectId);
    return row ?? { ...this.defaults };
  }

  /** Live disks of the project, leaving out `exceptDiskId` (a disk being moved or resized). */
  usage(projectId: string, exceptDiskId = ''): QuotaUsage {
    const row = this.sql.get<QuotaUsage>(
      `SELECT count(*) AS volumes, coalesce(sum(size_gb), 0) AS gigabytes
         FROM disks WHERE project_id = ? AND deleted_at IS NULL AND id <> ?`,
      projectId,
      exceptDiskId,
    );
    return row ?? { volumes: 0, gigabytes: 0 };
  }

  setLimits(projectId: string, change: Partial<QuotaLimits>): QuotaLimits {
    return this.sql.immediate(() => {
      const next = { ...this.limits(projectId), ...change };
      this.sql.run(
        `INSERT INTO quotas (project_id, volumes, gigabytes, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (project_id) DO UPDATE
           SET volumes = excluded.volumes, gigabytes = excluded.gigabytes, updated_at = excluded.updated_at`,
        projectId,
        next.volumes,
        next.gigabytes,
        this.clock(),
      );
      return next;
    });
  }

  /**
   * Why `projectId` cannot hold one more disk of `sizeGb` besides its disks
   * other than `exceptDiskId`, or null if it can. Call it inside the
   * transaction that then writes, so the answer still holds at the write.
   */
  refusalToHold(projectId: string, sizeGb: number, exceptDiskId = ''): Refusal | null {
    const limits = this.limits(projectId);
    const used = this.usage(projectId, exceptDiskId);
    const over: string[] = [];
    if (limits.volumes !== -1 && used.volumes + 1 > limits.volumes) {
      over.push(`volumes ${used.volumes + 1} > limit ${limits.volumes}`);
    }
    if (limits.gigabytes !== -1 && used.gigabytes + sizeGb > limits.gigabytes) {
      over.push(`gigabytes ${used.gigabytes + sizeGb} > limit ${limits.gigabytes}`);
    }
    if (over.length === 0) return null;
    const message = `The quota of project ${projectId} would be exceeded: ${over.join(', ')}.`;
    return { name: 'QuotaExceeded', message };
  }
}
