/**
 * Exactly-once effect over at-least-once delivery, independent of Kafka:
 * each record's effect and the note of its event id are written in one
 * transaction, and an id already noted is a duplicate with no effect.
 * The Kafka adapter (kafka-consumer.ts) commits offsets only after
 * processAll() returned, so a crash between the two replays records that
 * this then recognises.
 *
 * The note comes first: an effect starts by inserting its event id into
 * consumed_events with ON CONFLICT DO NOTHING, and no row inserted means
 * another delivery has it. On PostgreSQL, where replicas share the table,
 * two of them handed one event by a rebalance meet on that primary key: the
 * second waits for the first to commit, inserts nothing, and skips the
 * effect. A check before the insert (read, then write) would let both pass.
 *
 * Nothing a record contains can stop the stream: damaged records and events
 * of types the application does not know are counted and kept in
 * dead_letters, and the next record is processed. Only the database failing
 * (full disk, lost connection, lock timeout) throws, and then nothing of the
 * batch is committed and the batch is delivered again.
 */
import { Logger, type LoggerService } from '@nestjs/common';
import { sql, type Transaction } from 'kysely';
import type { IHeaders } from 'kafkajs';
import type { CloudEvent } from '../../contracts/src/events';
import type { StoreDatabase } from '../../database/src/store-database';
import { DatabaseUnavailableError, isTransientDatabaseError } from '../../database/src/transient';
import { CloudEventParseError, messageKey, parseBinaryModeMessage } from '../../kafka/src/cloud-event-record';
import { inConsumeSpan } from '../../kafka/src/record-trace';
import type { ConsumedOutcome, ConsumerTables, DeadLetterReason } from './consumer-database';

/** One Kafka record as the consumer received it. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: IHeaders;
}

/** What an application makes of an event. */
export type Decision<Effect> =
  | { kind: 'apply'; effect: Effect }
  /** A type the application knows and has nothing to do with. */
  | { kind: 'ignore' }
  /** A type (or version) the application does not know. */
  | { kind: 'unknown'; detail: string }
  /** A known type whose data breaks the contract. */
  | { kind: 'invalid'; detail: string };

export interface EventHandler<Effect, AppTables> {
  /** Pure: no I/O, the same answer for the same event. */
  decide(event: CloudEvent<unknown>, record: { topic: string; key: string | null }): Decision<Effect>;
  /**
   * Writes the effect in `trx`, the transaction that notes the event id, and
   * nowhere else. It must give the same result whatever order events of
   * different keys come in, and stay right when another replica applies a
   * different event at the same moment (take a lock where it reads before
   * it writes).
   */
  apply(effect: Effect, event: CloudEvent<unknown>, trx: Transaction<AppTables>): Promise<void>;
}

export type Outcome = ConsumedOutcome | 'duplicate';
const OUTCOMES: readonly Outcome[] = ['applied', 'ignored', 'duplicate', 'unknown', 'malformed', 'failed'];

export interface ProcessingCounts {
  /** Events whose effect was committed for the first time (applied, or known and of no concern). */
  processed: number;
  applied: number;
  ignored: number;
  /** Records whose event id (or, for damaged ones, position) had been handled already. */
  duplicates: number;
  skipped: { unknown: number; malformed: number; failed: number };
}

export interface ConsumerMetrics {
  /** What this process did since it started. */
  since_start: ProcessingCounts;
  /** What the database holds, whichever process wrote it. */
  stored: {
    events: number;
    by_outcome: Record<ConsumedOutcome, number>;
    dead_letters: Record<DeadLetterReason, number>;
  };
}

export interface ProcessorOptions {
  logger?: LoggerService;
  /** Epoch milliseconds, for consumed_at and received_at (never part of a query's answer). */
  now?: () => number;
  /** The consumer group, named on each record's processing span. */
  groupId?: string;
}

/** SQLite's codes for the database itself failing: busy, full, unreadable. */
const SQLITE_FAILURE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|NOMEM|READONLY|CANTOPEN|PROTOCOL|CORRUPT|NOTADB|INTERRUPT|PERM|AUTH)/;
/**
 * PostgreSQL's SQLSTATE classes for the same: connection (08), transaction
 * state (25), rollback by the server (40: serialization, deadlock), lack of
 * resources (53), a lock not available (55), operator intervention (57),
 * system error (58) and internal error (XX).
 */
const POSTGRES_FAILURE_CLASSES = new Set(['08', '25', '40', '53', '55', '57', '58', 'XX']);

/**
 * Whether an error while applying is the database's trouble, which a later
 * delivery may not meet. Any other error is the record's doing (a
 * constraint it breaks, a bug it triggers) and would fail again on every
 * delivery, so the record is set aside instead of blocking its partition
 * forever.
 */
export function isDatabaseFailure(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError || isTransientDatabaseError(error)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (SQLITE_FAILURE.test(code)) return true;
  return /^[0-9A-Z]{5}$/.test(code) && POSTGRES_FAILURE_CLASSES.has(code.slice(0, 2));
}

function headerText(headers: IHeaders | undefined): string {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const text = (v: Buffer | string) => (typeof v === 'string' ? v : v.toString('utf8'));
    out[name] = Array.isArray(value) ? value.map(text) : text(value);
  }
  return JSON.stringify(out);
}

function bytes(value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

interface Note {
  outcome: Outcome;
  record: ConsumedRecord;
  type: string | null;
  detail: string | null;
}

const NOT_APPLIED: Record<Exclude<Decision<unknown>['kind'], 'apply'>, ConsumedOutcome> = {
  ignore: 'ignored',
  unknown: 'unknown',
  invalid: 'malformed',
};

export class ExactlyOnceProcessor<Effect, AppTables> {
  private readonly logger: LoggerService;
  private readonly now: () => number;
  private readonly groupId: string;
  private readonly counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  /** Kinds of trouble already logged at warn level; later ones go to debug, so a flood is one line. */
  private readonly warned = new Set<string>();
  /** The same database seen through the machinery's tables alone. */
  private readonly machinery: StoreDatabase<ConsumerTables>;

  constructor(
    store: StoreDatabase<ConsumerTables & AppTables>,
    private readonly handler: EventHandler<Effect, AppTables>,
    options: ProcessorOptions = {},
  ) {
    this.logger = options.logger ?? new Logger(ExactlyOnceProcessor.name);
    this.now = options.now ?? Date.now;
    this.groupId = options.groupId ?? '';
    // The parameter's type says the database has both sets of tables;
    // TypeScript cannot narrow a generic intersection by itself.
    this.machinery = store as unknown as StoreDatabase<ConsumerTables>;
  }

  /**
   * Handles records in one transaction, each in a savepoint of its own, and
   * returns their outcomes. When this resolves, every effect is committed;
   * when it rejects (the database failed), none is. A transient failure
   * (a deadlock with another replica, a dropped connection) runs the whole
   * batch again first, which the notes make harmless.
   */
  async processAll(records: readonly ConsumedRecord[]): Promise<Outcome[]> {
    const notes = await this.machinery.transaction(async (trx) => {
      const done: Note[] = [];
      for (const record of records) done.push(await inConsumeSpan(record, this.groupId, () => this.processOne(trx, record)));
      return done;
    });
    for (const note of notes) {
      this.counts[note.outcome] += 1;
      this.report(note);
    }
    return notes.map((note) => note.outcome);
  }

  async metrics(): Promise<ConsumerMetrics> {
    const [outcomes, letters] = await this.machinery.run((db) =>
      Promise.all([
        db.selectFrom('consumed_events').select(['outcome', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('outcome').execute(),
        db.selectFrom('dead_letters').select(['reason', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('reason').execute(),
      ]),
    );
    const byOutcome: Record<ConsumedOutcome, number> = { applied: 0, ignored: 0, unknown: 0, malformed: 0, failed: 0 };
    for (const { outcome, n } of outcomes) if (outcome in byOutcome) byOutcome[outcome] = Number(n);
    const deadLetters: Record<DeadLetterReason, number> = { unknown: 0, malformed: 0, failed: 0 };
    for (const { reason, n } of letters) if (reason in deadLetters) deadLetters[reason] = Number(n);
    const c = this.counts;
    return {
      since_start: {
        processed: c.applied + c.ignored,
        applied: c.applied,
        ignored: c.ignored,
        duplicates: c.duplicate,
        skipped: { unknown: c.unknown, malformed: c.malformed, failed: c.failed },
      },
      stored: {
        events: Object.values(byOutcome).reduce((sum, n) => sum + n, 0),
        by_outcome: byOutcome,
        dead_letters: deadLetters,
      },
    };
  }

  private async processOne(trx: Transaction<ConsumerTables>, record: ConsumedRecord): Promise<Note> {
    let event: CloudEvent<unknown>;
    try {
      event = parseBinaryModeMessage(record);
    } catch (error) {
      if (!(error instanceof CloudEventParseError)) throw error;
      // No id to recognise it by: its position is what makes a redelivery a duplicate.
      const kept = await this.deadLetter(trx, record, 'malformed', error.message, null);
      return { outcome: kept ? 'malformed' : 'duplicate', record, type: null, detail: error.message };
    }
    const duplicate: Note = { outcome: 'duplicate', record, type: event.type, detail: null };

    const decision = this.handler.decide(event, { topic: record.topic, key: messageKey(record) });
    if (decision.kind !== 'apply') {
      const outcome = NOT_APPLIED[decision.kind];
      if (!(await this.note(trx, event, record, outcome))) return duplicate;
      const detail = decision.kind === 'ignore' ? null : decision.detail;
      if (detail !== null) await this.deadLetter(trx, record, outcome as DeadLetterReason, detail, event);
      return { outcome, record, type: event.type, detail };
    }

    // The savepoint comes before the note: a failed effect takes its
    // 'applied' note back with it (consumed_events refuses an UPDATE), and
    // the event is then noted as failed instead.
    await sql`SAVEPOINT record_effect`.execute(trx);
    try {
      if (!(await this.note(trx, event, record, 'applied'))) {
        await sql`RELEASE SAVEPOINT record_effect`.execute(trx);
        return duplicate;
      }
      // The same transaction, seen through the application's tables.
      await this.handler.apply(decision.effect, event, trx as unknown as Transaction<AppTables>);
      await sql`RELEASE SAVEPOINT record_effect`.execute(trx);
      return { outcome: 'applied', record, type: event.type, detail: null };
    } catch (error) {
      if (isDatabaseFailure(error)) throw error;
      await sql`ROLLBACK TO SAVEPOINT record_effect`.execute(trx);
      await sql`RELEASE SAVEPOINT record_effect`.execute(trx);
      const detail = error instanceof Error ? error.message : String(error);
      // Between the rollback and this note another replica may have claimed the id: its outcome stands.
      if (!(await this.note(trx, event, record, 'failed'))) return duplicate;
      await this.deadLetter(trx, record, 'failed', detail, event);
      return { outcome: 'failed', record, type: event.type, detail };
    }
  }

  /** Claims the event id for this delivery: false when a delivery before (or beside) it has it. */
  private async note(trx: Transaction<ConsumerTables>, event: CloudEvent<unknown>, record: ConsumedRecord, outcome: ConsumedOutcome): Promise<boolean> {
    const result = await trx
      .insertInto('consumed_events')
      .values({
        event_id: event.id,
        event_type: event.type,
        topic: record.topic,
        kafka_partition: record.partition,
        kafka_offset: record.offset,
        outcome,
        consumed_at: this.now(),
      })
      .onConflict((oc) => oc.column('event_id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** Keeps the record by its position; false when it was kept already (a redelivered damaged record). */
  private async deadLetter(
    trx: Transaction<ConsumerTables>,
    record: ConsumedRecord,
    reason: DeadLetterReason,
    detail: string,
    event: CloudEvent<unknown> | null,
  ): Promise<boolean> {
    const result = await trx
      .insertInto('dead_letters')
      .values({
        topic: record.topic,
        kafka_partition: record.partition,
        kafka_offset: record.offset,
        reason,
        detail,
        event_id: event?.id ?? null,
        event_type: event?.type ?? null,
        record_key: bytes(record.key),
        headers: headerText(record.headers),
        value: bytes(record.value),
        received_at: this.now(),
      })
      .onConflict((oc) => oc.columns(['topic', 'kafka_partition', 'kafka_offset']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  private report({ outcome, record, type, detail }: Note): void {
    if (outcome !== 'unknown' && outcome !== 'malformed' && outcome !== 'failed') return;
    const where = `${record.topic}/${record.partition}@${record.offset}`;
    const line = `skipped ${outcome} record ${where}${type ? ` (${type})` : ''}: ${detail ?? ''}; kept in dead_letters`;
    // One warning per kind of trouble (per type for unknown ones): a
    // producer upgraded ahead of its consumers must not flood the log.
    const kind = outcome === 'unknown' ? `unknown:${type ?? ''}` : outcome;
    if (this.warned.has(kind)) {
      this.logger.debug?.(line);
    } else {
      this.warned.add(kind);
      this.logger.warn(`${line} (further ones of this kind are logged at debug level)`);
    }
  }
}
