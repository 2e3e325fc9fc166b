import type { Kysely, Transaction } from 'kysely';
import type { InventorySchema } from './inventory.schema';
import type { InventoryStore } from './inventory.store';
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

/** Why `used` plus one more disk of `sizeGb` does not fit `limits`, or null if it does. */
export function quotaRefusal(projectId: string, limits: QuotaLimits, used: QuotaUsage, sizeGb: number): Refusal | null {
  const over: string[] = [];
  if (limits.volumes !== -1 && used.volumes + 1 > limits.volumes) {
    over.push(`volumes ${used.volumes + 1} > limit ${limits.volumes}`);
  }
  if (limits.gigabytes !== -1 && used.gigabytes + sizeGb > limits.gigabytes) {
    over.push(`gigabytes ${used.gigabytes + sizeGb} > limit ${limits.gigabytes}`);
  }
  if (over.length === 0) return null;
  return { name: 'QuotaExceeded', message: `The quota of project ${projectId} would be exceeded: ${over.join(', ')}.` };
}

/**
 * Limits are stored only where a project differs from the configured
 * default. Usage is computed from live disks, never counted separately, so
 * it cannot drift from them: moving a disk to another project moves its usage
 * in the same UPDATE that changes the owner.
 */
export class QuotaRepository {
  constructor(
    private readonly store: InventoryStore,
    private readonly defaults: QuotaLimits,
    private readonly clock: Clock,
  ) {}

  /** The project's limits; `db` is the transaction to read in, if any. */
  async limits(projectId: string, db?: Kysely<InventorySchema>): Promise<QuotaLimits> {
    const read = (on: Kysely<InventorySchema>) =>
      on.selectFrom('quotas').select(['volumes', 'gigabytes']).where('project_id', '=', projectId).executeTakeFirst();
    const row = await (db === undefined ? this.store.run(read) : read(db));
    return row === undefined ? { ...this.defaults } : { volumes: row.volumes, gigabytes: row.gigabytes };
  }

  /** Live disks of the project, leaving out `exceptDiskId` (a disk being moved or resized). */
  async usage(projectId: string, exceptDiskId = '', db?: Kysely<InventorySchema>): Promise<QuotaUsage> {
    const read = (on: Kysely<InventorySchema>) =>
      on
        .selectFrom('disks')
        .select((eb) => [eb.fn.countAll<number>().as('volumes'), eb.fn.coalesce(eb.fn.sum<number>('size_gb'), eb.lit(0)).as('gigabytes')])
        .where('project_id', '=', projectId)
        .where('deleted_at', 'is', null)
        .where('id', '<>', exceptDiskId)
        .executeTakeFirst();
    const row = await (db === undefined ? this.store.run(read) : read(db));
    // SQLite's count and sum are numbers already; Number() also covers a driver handing back text.
    return row === undefined ? { volumes: 0, gigabytes: 0 } : { volumes: Number(row.volumes), gigabytes: Number(row.gigabytes) };
  }

  /**
   * One upsert that writes only the limits named in `change`, so two
   * administrators setting different limits at once both keep theirs; a
   * project's first row starts from the defaults for the rest.
   */
  async setLimits(projectId: string, change: Partial<QuotaLimits>): Promise<QuotaLimits> {
    const now = this.clock();
    const row = await this.store.run((db) =>
      db
        .insertInto('quotas')
        .values({
          project_id: projectId,
          volumes: change.volumes ?? this.defaults.volumes,
          gigabytes: change.gigabytes ?? this.defaults.gigabytes,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.column('project_id').doUpdateSet((eb) => ({
            ...(change.volumes === undefined ? {} : { volumes: eb.ref('excluded.volumes') }),
            ...(change.gigabytes === undefined ? {} : { gigabytes: eb.ref('excluded.gigabytes') }),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .returning(['volumes', 'gigabytes'])
        .executeTakeFirstOrThrow(),
    );
    return { volumes: row.volumes, gigabytes: row.gigabytes };
  }

  /**
   * Why `projectId` cannot hold one more disk of `sizeGb` besides its disks
   * other than `exceptDiskId`, or null if it can. Runs inside the transaction
   * that then writes, after holding the project's quota, so the answer still
   * holds at the write.
   */
  async refusalToHold(trx: Transaction<InventorySchema>, projectId: string, sizeGb: number, exceptDiskId = ''): Promise<Refusal | null> {
    await this.store.holdQuota(trx, projectId);
    const limits = await this.limits(projectId, trx);
    const used = await this.usage(projectId, exceptDiskId, trx);
    return quotaRefusal(projectId, limits, used, sizeGb);
  }
}
