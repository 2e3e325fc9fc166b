import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { sql, type Kysely, type Transaction } from 'kysely';
import { describeTarget, type DatabaseTarget } from '../../../../libs/database/src/database-url';
import { StoreDatabase, type SqlDialect } from '../../../../libs/database/src/store-database';
import type { NonceGuard } from '../../../../libs/auth/src/service-signature';
import { SeenKeys } from '../../../../libs/database/src/seen-keys';
import { INVENTORY_MIGRATIONS } from './inventory.migrations';

/** The scope of the internal API's nonces in seen_keys. */
const SERVICE_NONCE_SCOPE = 'service-nonce';
import type { InventorySchema } from './inventory.schema';

export interface InventoryStoreOptions {
  /** PostgreSQL connections this process may hold for the inventory. */
  poolMax?: number;
}

/**
 * The inventory's database (a SQLite file, or its schema of a PostgreSQL
 * database shared by replicas), migrated on open, as a Nest provider closed
 * after the HTTP server stops.
 *
 * The one place the two databases' concurrency differs is here, in the
 * hold* methods. A SQLite file has one writer at a time, and a transaction
 * that read before another's commit fails to write (SQLITE_BUSY_SNAPSHOT)
 * and is run again whole, so what it read still holds when it writes. On
 * PostgreSQL, READ COMMITTED lets two transactions read the same state and
 * both write; there the rows a check depends on are locked first, and the
 * check reads in a later statement, which sees every commit made before the
 * lock was granted.
 */
export class InventoryStore implements OnApplicationShutdown {
  private constructor(
    private readonly database: StoreDatabase<InventorySchema>,
    private readonly description: string,
  ) {}

  static async open(target: DatabaseTarget, options: InventoryStoreOptions = {}): Promise<InventoryStore> {
    const database = await StoreDatabase.open<InventorySchema>({
      store: 'inventory',
      target,
      migrations: INVENTORY_MIGRATIONS,
      poolMax: options.poolMax,
      // The worker treats a 200 from a transfer step as done, so a committed
      // reassign must survive power loss, not only a process crash.
      sqliteSynchronous: 'FULL',
    });
    return new InventoryStore(database, describeTarget(target));
  }

  /** The internal API's nonces, claimed in the database every replica shares. */
  nonceGuard(): NonceGuard {
    const seen = new SeenKeys(this.database, SERVICE_NONCE_SCOPE);
    return { claim: (nonce, untilMs, nowMs) => seen.claim(nonce, untilMs, nowMs) };
  }

  get dialect(): SqlDialect {
    return this.database.dialect;
  }

  /** Runs reads or a single-statement write, again on a transient error. */
  run<T>(work: (db: Kysely<InventorySchema>) => Promise<T>): Promise<T> {
    return this.database.run(work);
  }

  /** Runs a read-check-write unit in one transaction, the whole of it again on a transient error. */
  transaction<T>(work: (trx: Transaction<InventorySchema>) => Promise<T>): Promise<T> {
    return this.database.transaction(work);
  }

  /**
   * Holds the disk's row until the transaction ends, so that no other
   * transaction changes it, or adds a snapshot or backup under it, between
   * this one's check and its write. Call it before reading the disk.
   */
  async holdDisk(trx: Transaction<InventorySchema>, diskId: string): Promise<void> {
    if (this.dialect !== 'postgres') return;
    await trx.selectFrom('disks').select('id').where('id', '=', diskId).forUpdate().execute();
  }

  /**
   * Holds the project's quota until the transaction ends, so that two
   * transactions adding to its usage check one after the other. Call it
   * before reading the usage. Always after holdDisk where both are taken,
   * so that two transactions cannot wait on each other.
   */
  async holdQuota(trx: Transaction<InventorySchema>, projectId: string): Promise<void> {
    if (this.dialect !== 'postgres') return;
    await trx.insertInto('quota_guards').values({ project_id: projectId }).onConflict((oc) => oc.column('project_id').doNothing()).execute();
    await trx.selectFrom('quota_guards').select('project_id').where('project_id', '=', projectId).forUpdate().execute();
  }

  /** True when the database answers a query. */
  async isHealthy(): Promise<boolean> {
    try {
      const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(this.database.db);
      return rows[0]?.one === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.database.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
    new Logger('InventoryStore').log(`Closed ${this.description}`);
  }
}
