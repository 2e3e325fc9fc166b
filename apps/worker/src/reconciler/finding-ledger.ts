/**
 * The ids of reconciler findings already on Kafka. A disagreement the
 * reconciler only reports is found again on every run until someone fixes
 * it; this is what keeps it from being re-sent every few minutes. Ids are
 * deterministic, so losing this store costs one duplicate per finding,
 * which consumers drop by id.
 */
import { sql } from 'kysely';
import type { FindingLedgerPort } from '../../../../activities/reconciler.activities';
import type { DatabaseTarget } from '../../../../libs/database/src/database-url';
import { StoreDatabase, type StoreMigration } from '../../../../libs/database/src/store-database';

interface LedgerSchema {
  reported_findings: { id: string; first_reported_at: number };
}

/**
 * The first step is the SQLite release's own table (its PRAGMA user_version
 * 1), created only if missing, so a file written by it is taken over as it
 * is; user_version is left as it was and no longer read.
 */
export const FINDING_LEDGER_MIGRATIONS: readonly StoreMigration[] = [
  {
    name: '0001_reported_findings',
    async up(db, dialect) {
      let table = db.schema
        .createTable('reported_findings')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('first_reported_at', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull());
      // STRICT as the SQLite release made it; PostgreSQL columns are typed anyway.
      if (dialect === 'sqlite') table = table.modifyEnd(sql`STRICT`);
      await table.execute();
    },
  },
];

export class FindingLedger implements FindingLedgerPort {
  private constructor(private readonly store: StoreDatabase<LedgerSchema>) {}

  /** Opens the ledger, creating its schema (and SQLite file and folder) if needed. */
  static async open(target: DatabaseTarget, options: { poolMax?: number } = {}): Promise<FindingLedger> {
    const store = await StoreDatabase.open<LedgerSchema>({
      store: 'reconciler',
      target,
      migrations: FINDING_LEDGER_MIGRATIONS,
      poolMax: options.poolMax,
    });
    return new FindingLedger(store);
  }

  /**
   * The claim and the announcement share one transaction: the insert (ON
   * CONFLICT DO NOTHING) returns only the ids no one had, and they stay
   * claimed only if `announce` resolves and the transaction commits. A
   * second worker inserting the same id meanwhile waits on the first's
   * uncommitted row, then inserts nothing and announces nothing; if the
   * first's announcement failed, its rows are rolled back and the second
   * claims them. Ids are claimed in sorted order, so two claimers of
   * overlapping sets wait on one another rather than deadlock.
   *
   * Not run through the store's retry: that would run `announce` again on
   * what it takes for a transient database error (a Kafka "Connection
   * timeout" reads like one); the activity's Temporal retry covers both.
   */
  async announceOnce(ids: readonly string[], atMs: number, announce: (fresh: string[]) => Promise<void>): Promise<string[]> {
    const asked = [...new Set(ids)];
    if (asked.length === 0) {
      await announce([]);
      return [];
    }
    return this.store.db.transaction().execute(async (trx) => {
      const claimed = await trx
        .insertInto('reported_findings')
        .values([...asked].sort().map((id) => ({ id, first_reported_at: atMs })))
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .execute();
      const won = new Set(claimed.map((row) => row.id));
      const fresh = asked.filter((id) => won.has(id));
      await announce(fresh);
      return fresh;
    });
  }

  /** The ids among `ids` never reported, in the order given. */
  async unreported(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.store.run((db) => db.selectFrom('reported_findings').select('id').where('id', 'in', [...new Set(ids)]).execute());
    const reported = new Set(rows.map((row) => row.id));
    return ids.filter((id) => !reported.has(id));
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
