/**
 * Exactly-once effect over at-least-once delivery, independent of Kafka:
 * each record's effect and the note of its event id are written in one
 * SQLite transaction, and an id already noted is a duplicate with no effect.
 * The Kafka adapter (kafka-consumer.ts) commits offsets only after
 * processAll() returned, so a crash between the two replays records that
 * this then recognises.
 *
 * Nothing a record contains can stop the stream: damaged records and events
 * of types the application does not know are counted and kept in
 * dead_letters, and the next record is processed. Only the database failing
 * (full disk, lock timeout) throws, and then nothing of the batch is
 * committed and the batch is delivered again.
 */
import { Logger, type LoggerService } from '@nestjs/common';
import Database from 'better-sqlite3';
import type { IHeaders } from 'kafkajs';
import type { CloudEvent } from '../../contracts/src/events';
import { CloudEventParseError, messageKey, parseBinaryModeMessage } from '../../kafka/src/cloud-event-record';

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

export interface EventHandler<Effect> {
  /** Pure: no I/O, the same answer for the same event. */
  decide(event: CloudEvent<unknown>, record: { topic: string; key: string | null }): Decision<Effect>;
  /**
   * Writes the effect through the consumer's database, synchronously: it
   * runs inside the transaction that notes the event id. It must give the
   * same result whatever order events of different keys come in.
   */
  apply(effect: Effect, event: CloudEvent<unknown>): void;
}

export type Outcome = 'applied' | 'ignored' | 'duplicate' | 'unknown' | 'malformed' | 'failed';
const OUTCOMES: readonly Outcome[] = ['applied', 'ignored', 'duplicate', 'unknown', 'malformed', 'failed'];
type DeadLetterReason = 'unknown' | 'malformed' | 'failed';

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
    by_outcome: Record<'applied' | 'ignored' | 'unknown' | 'malformed' | 'failed', number>;
    dead_letters: Record<DeadLetterReason, number>;
  };
}

export interface ProcessorOptions {
  logger?: LoggerService;
  /** Epoch milliseconds, for consumed_at and received_at (never part of a query's answer). */
  now?: () => number;
}

/**
 * SQLite errors a retry may cure: the database is busy, full, unreadable.
 * Any other error while applying is the record's doing (a constraint it
 * breaks, a bug it triggers) and would fail again on every delivery, so the
 * record is set aside instead of blocking its partition forever.
 */
const TRANSIENT_SQLITE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|NOMEM|READONLY|CANTOPEN|PROTOCOL|CORRUPT|NOTADB|INTERRUPT|PERM|AUTH)/;

function isTransient(error: unknown): boolean {
  return error instanceof Database.SqliteError && TRANSIENT_SQLITE.test(error.code);
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

export class ExactlyOnceProcessor<Effect> {
  private readonly logger: LoggerService;
  private readonly now: () => number;
  private readonly counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  /** Kinds of trouble already logged at warn level; later ones go to debug, so a flood is one line. */
  private readonly warned = new Set<string>();

  private readonly isConsumed: Database.Statement<[string], { one: number }>;
  private readonly noteConsumed: Database.Statement<[string, string, string, number, string, string, number]>;
  private readonly keepDeadLetter: Database.Statement<
    [string, number, string, string, string, string | null, string | null, Buffer | null, string, Buffer | null, number]
  >;
  private readonly countByOutcome: Database.Statement<[], { outcome: string; n: number }>;
  private readonly countDeadLetters: Database.Statement<[], { reason: string; n: number }>;

  constructor(
    private readonly db: Database.Database,
    private readonly handler: EventHandler<Effect>,
    options: ProcessorOptions = {},
  ) {
    this.logger = options.logger ?? new Logger(ExactlyOnceProcessor.name);
    this.now = options.now ?? Date.now;
    this.isConsumed = db.prepare('SELECT 1 AS one FROM consumed_events WHERE event_id = ?');
    this.noteConsumed = db.prepare(
      `INSERT INTO consumed_events (event_id, event_type, topic, kafka_partition, kafka_offset, outcome, consumed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    // OR IGNORE: a redelivered damaged record (it has no id to recognise it
    // by) lands on its own position again.
    this.keepDeadLetter = db.prepare(
      `INSERT OR IGNORE INTO dead_letters
         (topic, kafka_partition, kafka_offset, reason, detail, event_id, event_type, record_key, headers, value, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.countByOutcome = db.prepare('SELECT outcome, count(*) AS n FROM consumed_events GROUP BY outcome');
    this.countDeadLetters = db.prepare('SELECT reason, count(*) AS n FROM dead_letters GROUP BY reason');
  }

  /**
   * Handles records in one transaction, each in a savepoint of its own, and
   * returns their outcomes. When this returns, every effect is committed;
   * when it throws (the database failed), none is.
   */
  processAll(records: readonly ConsumedRecord[]): Outcome[] {
    const notes = this.db.transaction(() => records.map((record) => this.processOne(record))).immediate();
    for (const note of notes) {
      this.counts[note.outcome] += 1;
      this.report(note);
    }
    return notes.map((note) => note.outcome);
  }

  metrics(): ConsumerMetrics {
    const byOutcome = { applied: 0, ignored: 0, unknown: 0, malformed: 0, failed: 0 };
    for (const { outcome, n } of this.countByOutcome.all()) {
      if (outcome in byOutcome) byOutcome[outcome as keyof typeof byOutcome] = n;
    }
    const deadLetters = { unknown: 0, malformed: 0, failed: 0 };
    for (const { reason, n } of this.countDeadLetters.all()) {
      if (reason in deadLetters) deadLetters[reason as DeadLetterReason] = n;
    }
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

  private processOne(record: ConsumedRecord): Note {
    let event: CloudEvent<unknown>;
    try {
      event = parseBinaryModeMessage(record);
    } catch (error) {
      if (!(error instanceof CloudEventParseError)) throw error;
      const kept = this.deadLetter(record, 'malformed', error.message, null);
      return { outcome: kept ? 'malformed' : 'duplicate', record, type: null, detail: error.message };
    }
    if (this.isConsumed.get(event.id)) return { outcome: 'duplicate', record, type: event.type, detail: null };

    const decision = this.handler.decide(event, { topic: record.topic, key: messageKey(record) });
    switch (decision.kind) {
      case 'apply':
        try {
          this.db.transaction(() => {
            this.handler.apply(decision.effect, event);
            this.note(event, record, 'applied');
          })();
          return { outcome: 'applied', record, type: event.type, detail: null };
        } catch (error) {
          if (isTransient(error)) throw error;
          const detail = error instanceof Error ? error.message : String(error);
          this.note(event, record, 'failed');
          this.deadLetter(record, 'failed', detail, event);
          return { outcome: 'failed', record, type: event.type, detail };
        }
      case 'ignore':
        this.note(event, record, 'ignored');
        return { outcome: 'ignored', record, type: event.type, detail: null };
      case 'unknown':
        this.note(event, record, 'unknown');
        this.deadLetter(record, 'unknown', decision.detail, event);
        return { outcome: 'unknown', record, type: event.type, detail: decision.detail };
      case 'invalid':
        this.note(event, record, 'malformed');
        this.deadLetter(record, 'malformed', decision.detail, event);
        return { outcome: 'malformed', record, type: event.type, detail: decision.detail };
    }
  }

  private note(event: CloudEvent<unknown>, record: ConsumedRecord, outcome: Exclude<Outcome, 'duplicate'>): void {
    this.noteConsumed.run(event.id, event.type, record.topic, record.partition, record.offset, outcome, this.now());
  }

  private deadLetter(record: ConsumedRecord, reason: DeadLetterReason, detail: string, event: CloudEvent<unknown> | null): boolean {
    const result = this.keepDeadLetter.run(
      record.topic,
      record.partition,
      record.offset,
      reason,
      detail,
      event?.id ?? null,
      event?.type ?? null,
      bytes(record.key),
      headerText(record.headers),
      bytes(record.value),
      this.now(),
    );
    return result.changes === 1;
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
