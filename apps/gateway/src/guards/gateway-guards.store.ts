/**
 * The gateway's security limits, in a database every gateway replica shares
 * (GATEWAY_GUARDS_DATABASE_URL or DATABASE_URL), so that N gateways grant
 * exactly the budget one grants:
 *   - the signatures of AK/SK requests already used (a copy replayed to
 *     another gateway is refused there too);
 *   - each project's failed accepts over a sliding window.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { DatabaseTarget } from '../../../../libs/database/src/database-url';
import { SeenKeys, type SeenKeysTable, seenKeysMigration } from '../../../../libs/database/src/seen-keys';
import { StoreDatabase, type StoreMigration } from '../../../../libs/database/src/store-database';

interface AcceptAttemptsTable {
  project_id: string;
  attempt_id: string;
  at: number;
}

interface GuardsSchema {
  seen_keys: SeenKeysTable;
  accept_attempts: AcceptAttemptsTable;
}

export const GATEWAY_GUARDS_MIGRATIONS: readonly StoreMigration[] = [
  seenKeysMigration('0001_seen_keys'),
  {
    name: '0002_accept_attempts',
    async up(db, dialect) {
      await db.schema
        .createTable('accept_attempts')
        .ifNotExists()
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('attempt_id', 'text', (c) => c.notNull())
        .addColumn('at', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('accept_attempts_pk', ['project_id', 'attempt_id'])
        .execute();
      await db.schema.createIndex('accept_attempts_by_time').ifNotExists().on('accept_attempts').columns(['project_id', 'at']).execute();
    },
  },
];

export interface AcceptLimitPolicy {
  maxFailures: number;
  windowMs: number;
}

export type AcceptReservation = { allowed: true; attemptId: string } | { allowed: false; retryAfterMs: number };

/** The signature scope in seen_keys. */
const SDK_SIGNATURE_SCOPE = 'sdk-signature';

export class GatewayGuards {
  /** AK/SK signatures already used; see SdkHmacVerifier. */
  readonly signatures: SeenKeys;

  private constructor(
    private readonly store: StoreDatabase<GuardsSchema>,
    private readonly policy: AcceptLimitPolicy,
  ) {
    this.signatures = new SeenKeys(store, SDK_SIGNATURE_SCOPE);
  }

  static async open(target: DatabaseTarget, policy: AcceptLimitPolicy, options: { poolMax?: number } = {}): Promise<GatewayGuards> {
    const store = await StoreDatabase.open<GuardsSchema>({
      store: 'gatewayGuards',
      target,
      migrations: GATEWAY_GUARDS_MIGRATIONS,
      poolMax: options.poolMax,
    });
    return new GatewayGuards(store, policy);
  }

  /**
   * Takes one of the project's accept attempts before the accept runs. An
   * attempt counts as a failure until released, so concurrent guesses on
   * several gateways cannot all pass a check that none has yet recorded:
   * the count and the insert are one transaction, serialised per project
   * (an advisory lock on PostgreSQL; SQLite has one writer at a time).
   * Release it when the outcome is not a guess; a gateway that dies before
   * releasing leaves it counted until the window passes, which errs on the
   * safe side.
   */
  async reserveAccept(projectId: string, nowMs: number): Promise<AcceptReservation> {
    const { maxFailures, windowMs } = this.policy;
    return this.store.transaction(async (trx) => {
      if (this.store.dialect === 'postgres') {
        await sql`SELECT pg_advisory_xact_lock(hashtext(${`accept-attempts:${projectId}`}))`.execute(trx);
      }
      await trx.deleteFrom('accept_attempts').where('project_id', '=', projectId).where('at', '<=', nowMs - windowMs).execute();
      const held = await trx
        .selectFrom('accept_attempts')
        .select([sql<number>`count(*)`.as('n'), sql<number | null>`min(at)`.as('oldest')])
        .where('project_id', '=', projectId)
        .executeTakeFirstOrThrow();
      if (Number(held.n) >= maxFailures) {
        // Full: the project may try again once its oldest attempt leaves the window.
        return { allowed: false, retryAfterMs: Math.max(1, Number(held.oldest) + windowMs - nowMs) };
      }
      const attemptId = randomUUID();
      await trx.insertInto('accept_attempts').values({ project_id: projectId, attempt_id: attemptId, at: nowMs }).execute();
      return { allowed: true, attemptId };
    });
  }

  /** The attempt was not a guess (it succeeded, or failed for another reason): it stops counting. */
  async releaseAccept(projectId: string, attemptId: string): Promise<void> {
    await this.store.run((db) => db.deleteFrom('accept_attempts').where('project_id', '=', projectId).where('attempt_id', '=', attemptId).execute());
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
