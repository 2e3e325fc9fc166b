/**
 * Keys that may be used once within a time: a signed request's signature, a
 * service call's nonce. Kept in the store's database rather than a process's
 * memory, so a copy replayed to another replica is refused as well; the
 * primary key makes "first to insert wins" one statement on either database.
 */
import { type Kysely, sql } from 'kysely';
import type { StoreDatabase, StoreMigration } from './store-database';

export interface SeenKeysTable {
  scope: string;
  key: string;
  expires_at: number;
}

/** The step that creates the table; each store that keeps such keys lists it under a name of its own order. */
export function seenKeysMigration(name: string): StoreMigration {
  return {
    name,
    async up(db, dialect) {
      await db.schema
        .createTable('seen_keys')
        .ifNotExists()
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('expires_at', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('seen_keys_pk', ['scope', 'key'])
        .execute();
      await db.schema.createIndex('seen_keys_by_expiry').ifNotExists().on('seen_keys').column('expires_at').execute();
    },
  };
}

/** How often a process deletes the keys whose time has passed. */
const SWEEP_EVERY_MS = 60_000;

export class SeenKeys {
  private nextSweepMs = 0;

  constructor(
    private readonly store: StoreDatabase<{ seen_keys: SeenKeysTable }>,
    private readonly scope: string,
  ) {}

  /**
   * True the first time `key` is claimed before `expiresAtMs`, on whichever
   * replica; false for every later claim while it lasts. A key whose time
   * has passed may be claimed again: callers refuse such requests anyway
   * (their date is outside the window), so forgetting it loses nothing.
   */
  async claim(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    if (nowMs >= this.nextSweepMs) {
      this.nextSweepMs = nowMs + SWEEP_EVERY_MS;
      await this.store.run((db) => db.deleteFrom('seen_keys').where('expires_at', '<=', nowMs).execute());
    }
    const result = await this.store.run((db) =>
      db
        .insertInto('seen_keys')
        .values({ scope: this.scope, key, expires_at: expiresAtMs })
        .onConflict((oc) => oc.columns(['scope', 'key']).doUpdateSet({ expires_at: expiresAtMs }).where('seen_keys.expires_at', '<=', nowMs))
        .executeTakeFirst(),
    );
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /** Keys still held (for tests and metrics). */
  async count(nowMs: number): Promise<number> {
    return this.store.run(async (db: Kysely<{ seen_keys: SeenKeysTable }>) => {
      const row = await db
        .selectFrom('seen_keys')
        .select(sql<number>`count(*)`.as('n'))
        .where('scope', '=', this.scope)
        .where('expires_at', '>', nowMs)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    });
  }
}
