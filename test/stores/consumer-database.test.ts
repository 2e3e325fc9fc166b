/**
 * The consumer machinery over a real database, SQLite and PostgreSQL: each
 * event's effect once, however often and by however many replicas it is
 * delivered; dead letters; a failing effect undone; nothing of a batch
 * committed when the database fails; and tables that refuse to change.
 */
import Database from 'better-sqlite3';
import { sql, type Transaction } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ConsumerTables, openConsumerDatabase } from '../../libs/consumer/src/consumer-database';
import { type ConsumedRecord, type EventHandler, ExactlyOnceProcessor } from '../../libs/consumer/src/event-processor';
import { EVENT_SOURCE, type OutgoingRecord } from '../../libs/contracts/src/events';
import type { StoreDatabase, StoreMigration } from '../../libs/database/src/store-database';
import { toBinaryModeMessage } from '../../libs/kafka/src/cloud-event-record';
import { sharingOneThread, writeReleaseOneFile } from './consumer-support';
import { DIALECTS, type DisposableTarget, freshStoreTarget } from '../support/store-targets';

/**
 * A deliberately non-idempotent application: every applied event adds its
 * amount to a counter. Applying one twice would show. It lives in the
 * billing store's place (schema, file name), as any consumer's tables would.
 */
interface TallyTables {
  tally: { name: string; total: number };
}

const TALLY_MIGRATIONS: readonly StoreMigration[] = [
  {
    name: '0002_tally',
    up: (db) => db.schema.createTable('tally').addColumn('name', 'text', (c) => c.primaryKey()).addColumn('total', 'integer', (c) => c.notNull()).execute(),
  },
];

type TallyDatabase = StoreDatabase<ConsumerTables & TallyTables>;

interface TallyOptions {
  failOn?: (amount: number) => Error | undefined;
  /** Holds the transaction open after the effect, so that two replicas are surely in flight together. */
  lingerMs?: number;
}

function tallyHandler(options: TallyOptions = {}): EventHandler<{ name: string; amount: number }, TallyTables> {
  return {
    decide(event) {
      if (event.type === 'test.noted.v1') return { kind: 'ignore' };
      if (event.type !== 'test.added.v1') return { kind: 'unknown', detail: `unknown event type ${event.type}` };
      const data = event.data as { name?: unknown; amount?: unknown };
      if (typeof data.name !== 'string' || typeof data.amount !== 'number') return { kind: 'invalid', detail: 'name and amount required' };
      return { kind: 'apply', effect: { name: data.name, amount: data.amount } };
    },
    async apply({ name, amount }, _event, trx: Transaction<TallyTables>) {
      const failure = options.failOn?.(amount);
      await trx
        .insertInto('tally')
        .values({ name, total: amount })
        .onConflict((oc) => oc.column('name').doUpdateSet((eb) => ({ total: eb('tally.total', '+', eb.ref('excluded.total')) })))
        .execute();
      if (failure) throw failure;
      if (options.lingerMs) await new Promise((resolve) => setTimeout(resolve, options.lingerMs));
    },
  };
}

let offset = 0;
function record(id: string, data: unknown, type = 'test.added.v1', position?: { partition?: number; offset?: number }): ConsumedRecord {
  const outgoing = {
    topic: 'evs.transfer.lifecycle.v1',
    key: 'disk-1',
    event: { specversion: '1.0', id, source: EVENT_SOURCE, type, subject: 'transfers/t', time: '2026-01-01T00:00:00.000Z', datacontenttype: 'application/json', data },
  } as OutgoingRecord;
  const message = toBinaryModeMessage(outgoing);
  return {
    topic: outgoing.topic,
    partition: position?.partition ?? 0,
    offset: String(position?.offset ?? offset++),
    key: Buffer.from(message.key),
    value: Buffer.from(message.value),
    headers: Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, Buffer.from(v)])),
  };
}

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

describe.each(DIALECTS)('the consumer machinery on %s', (dialect) => {
  let place: DisposableTarget;
  let opened: TallyDatabase[];

  /** One replica's connection to the consumer's database. */
  async function open(): Promise<TallyDatabase> {
    const db = await openConsumerDatabase<TallyTables>({ store: 'billing', target: place.target, migrations: TALLY_MIGRATIONS });
    opened.push(db);
    return db;
  }

  async function close(db: TallyDatabase): Promise<void> {
    opened = opened.filter((d) => d !== db);
    await db.close();
  }

  const processor = (db: TallyDatabase, options: TallyOptions = {}) => new ExactlyOnceProcessor(db, tallyHandler(options), { logger: silent });

  async function total(db: TallyDatabase, name: string): Promise<number> {
    const row = await db.db.selectFrom('tally').select('total').where('name', '=', name).executeTakeFirst();
    return row?.total ?? 0;
  }

  beforeEach(async () => {
    place = await freshStoreTarget(dialect, 'billing');
    opened = [];
  });

  afterEach(async () => {
    for (const db of opened) await db.close();
    await place.dispose();
  });

  it('applies each event once, however often and wherever it is delivered again', async () => {
    const db = await open();
    const p = processor(db);
    const first = [record('e-1', { name: 'a', amount: 5 }), record('e-2', { name: 'a', amount: 7 })];

    expect(await p.processAll(first)).toEqual(['applied', 'applied']);
    // The same records again (a crash before the offset commit), and a
    // re-sent copy at a later offset (a producer retry).
    expect(await p.processAll(first)).toEqual(['duplicate', 'duplicate']);
    expect(await p.processAll([record('e-1', { name: 'a', amount: 5 })])).toEqual(['duplicate']);

    expect(await total(db, 'a')).toBe(12);
    expect(await p.metrics()).toMatchObject({
      since_start: { processed: 2, applied: 2, duplicates: 3, skipped: { unknown: 0, malformed: 0, failed: 0 } },
      stored: { events: 2, by_outcome: { applied: 2 } },
    });
  });

  it('remembers what took effect across a restart: a new processor on the reopened database sees duplicates', async () => {
    const before = await open();
    await processor(before).processAll([record('e-1', { name: 'a', amount: 5 })]);
    await close(before);

    const db = await open();
    expect(await processor(db).processAll([record('e-1', { name: 'a', amount: 5 }), record('e-2', { name: 'a', amount: 1 })])).toEqual([
      'duplicate',
      'applied',
    ]);
    expect(await total(db, 'a')).toBe(6);
  });

  it('two replicas handed the same events at once (a rebalance) apply each exactly once', async () => {
    const [one, two] = await Promise.all([open(), open()]);
    await sharingOneThread(one, two);
    const batch = [record('e-1', { name: 'a', amount: 5 }), record('e-2', { name: 'a', amount: 7 }), record('e-3', { name: 'b', amount: 1 })];

    const [first, second] = await Promise.all([processor(one, { lingerMs: 10 }).processAll(batch), processor(two, { lingerMs: 10 }).processAll(batch)]);

    // Whichever got there first applied all three; the other found each id claimed.
    const outcomes = [...first, ...second];
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(3);
    expect(await total(one, 'a')).toBe(12);
    expect(await total(two, 'b')).toBe(1);
    const noted = await one.db.selectFrom('consumed_events').select(['event_id', 'outcome']).orderBy('event_id').execute();
    expect(noted).toEqual([
      { event_id: 'e-1', outcome: 'applied' },
      { event_id: 'e-2', outcome: 'applied' },
      { event_id: 'e-3', outcome: 'applied' },
    ]);
  });

  it('two replicas opening an empty database at once both come up on one schema', async () => {
    const [one, two] = await Promise.all([open(), open()]);
    await processor(one).processAll([record('e-1', { name: 'a', amount: 2 })]);
    expect(await total(two, 'a')).toBe(2);
  });

  it('skips an unknown type and damaged records, keeps them as dead letters, and goes on with the next record', async () => {
    const db = await open();
    const p = processor(db);
    const unknown = record('e-new', { name: 'a', amount: 100 }, 'test.added.v2');
    const noHeaders: ConsumedRecord = { topic: 't', partition: 1, offset: '40', key: null, value: Buffer.from('{"name":"a"}'), headers: {} };
    const notJson: ConsumedRecord = { ...record('e-bad', {}), value: Buffer.from('{not json') };
    const batch = [
      unknown,
      noHeaders,
      notJson,
      record('e-invalid', { name: 'a' }),
      record('e-noted', { anything: true }, 'test.noted.v1'),
      record('e-ok', { name: 'a', amount: 1 }),
    ];

    expect(await p.processAll(batch)).toEqual(['unknown', 'malformed', 'malformed', 'malformed', 'ignored', 'applied']);
    expect(await total(db, 'a')).toBe(1);
    // Delivered again after a crash: nothing new is kept or counted as skipped.
    expect(await p.processAll(batch)).toEqual(Array(6).fill('duplicate'));

    const letters = await db.db
      .selectFrom('dead_letters')
      .select(['reason', 'event_id', 'detail', 'value'])
      .orderBy('kafka_partition')
      .orderBy(sql`CAST(kafka_offset AS INTEGER)`)
      .execute();
    expect(letters.map((l) => [l.reason, l.event_id])).toEqual([
      ['unknown', 'e-new'],
      // Unreadable: no id to record it by, only its position.
      ['malformed', null],
      ['malformed', 'e-invalid'],
      ['malformed', null],
    ]);
    expect(letters[0]?.detail).toBe('unknown event type test.added.v2');
    expect(letters[1]?.value?.toString()).toBe('{not json');
    expect(letters[1]?.detail).toMatch(/value is not JSON/);
    expect(letters[2]?.detail).toBe('name and amount required');
    expect(letters[3]?.detail).toMatch(/missing header ce_specversion/);
    expect(await p.metrics()).toMatchObject({
      since_start: { processed: 2, applied: 1, ignored: 1, duplicates: 6, skipped: { unknown: 1, malformed: 3, failed: 0 } },
      stored: { dead_letters: { unknown: 1, malformed: 3, failed: 0 } },
    });
  });

  it('sets aside an event the application fails on, undoing its partial effect, and keeps the rest of the batch', async () => {
    const db = await open();
    const p = processor(db, { failOn: (amount) => (amount < 0 ? new RangeError('negative amount') : undefined) });

    expect(
      await p.processAll([record('e-1', { name: 'a', amount: 2 }), record('e-2', { name: 'a', amount: -50 }), record('e-3', { name: 'a', amount: 3 })]),
    ).toEqual(['applied', 'failed', 'applied']);
    expect(await total(db, 'a')).toBe(5);
    const failed = await db.db.selectFrom('dead_letters').select('detail').where('reason', '=', 'failed').execute();
    expect(failed.map((l) => l.detail)).toEqual(['negative amount']);
    const noted = await db.db.selectFrom('consumed_events').select('outcome').where('event_id', '=', 'e-2').execute();
    expect(noted).toEqual([{ outcome: 'failed' }]);
  });

  it('commits nothing of a batch when the database fails, so the whole batch can be delivered again', async () => {
    // What each database's driver throws when it cannot go on: a busy file, a full disk.
    const failure =
      dialect === 'sqlite'
        ? new Database.SqliteError('database is locked', 'SQLITE_BUSY')
        : Object.assign(new Error('could not extend file: No space left on device'), { code: '53100' });
    const db = await open();
    const p = processor(db, { failOn: (amount) => (amount === 13 ? failure : undefined) });
    const batch = [record('e-1', { name: 'a', amount: 2 }), record('e-2', { name: 'a', amount: 13 })];

    await expect(p.processAll(batch)).rejects.toThrow(/database is locked|No space left on device/);
    expect(await total(db, 'a')).toBe(0);
    expect((await p.metrics()).stored.events).toBe(0);
    expect((await p.metrics()).since_start.processed).toBe(0);
  });

  it('keeps its ledger append-only: the database refuses to change or remove a row', async () => {
    const db = await open();
    await processor(db).processAll([record('e-1', { name: 'a', amount: 1 }), record('e-x', {}, 'test.other.v1')]);

    await expect(sql`UPDATE consumed_events SET outcome = 'ignored'`.execute(db.db)).rejects.toThrow(/consumed_events is append-only/);
    await expect(sql`DELETE FROM consumed_events`.execute(db.db)).rejects.toThrow(/consumed_events is append-only/);
    await expect(sql`DELETE FROM dead_letters`.execute(db.db)).rejects.toThrow(/dead_letters is append-only/);
    if (dialect === 'postgres') {
      await expect(sql`TRUNCATE consumed_events`.execute(db.db)).rejects.toThrow(/consumed_events is append-only/);
    }
    expect((await processor(db).metrics()).stored.events).toBe(2);
  });
});

describe('a consumer file written by the SQLite-only release', () => {
  let place: DisposableTarget;

  beforeEach(async () => {
    place = await freshStoreTarget('sqlite', 'billing');
  });
  afterEach(async () => {
    await place.dispose();
  });

  it('is taken over as it is: what took effect stays a duplicate, and its ledger stays append-only', async () => {
    if (place.target.dialect !== 'sqlite') throw new Error('a SQLite target');
    writeReleaseOneFile(place.target.file, 'billing', (old) => {
      old
        .prepare('INSERT INTO consumed_events (event_id, event_type, topic, kafka_partition, kafka_offset, outcome, consumed_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run('e-old', 'test.added.v1', 'evs.transfer.lifecycle.v1', 0, '7', 'applied', Date.UTC(2026, 0, 1));
    });

    const db = await openConsumerDatabase<TallyTables>({ store: 'billing', target: place.target, migrations: TALLY_MIGRATIONS });
    try {
      const p = new ExactlyOnceProcessor(db, tallyHandler(), { logger: silent });
      expect(await p.processAll([record('e-old', { name: 'a', amount: 5 }), record('e-new', { name: 'a', amount: 1 })])).toEqual(['duplicate', 'applied']);
      await expect(sql`DELETE FROM consumed_events`.execute(db.db)).rejects.toThrow(/consumed_events is append-only/);
    } finally {
      await db.close();
    }
    // The release's own bookkeeping is left as it was; nothing reads it any more.
    const raw = new Database(place.target.file, { readonly: true });
    try {
      expect(raw.prepare('SELECT id FROM schema_migrations ORDER BY id').pluck().all()).toEqual(['billing/1', 'consumer/1']);
    } finally {
      raw.close();
    }
  });

  it('opens new consumer files with synchronous=FULL, so a commit is on disk before its offset is', async () => {
    if (place.target.dialect !== 'sqlite') throw new Error('a SQLite target');
    const db = await openConsumerDatabase<TallyTables>({ store: 'billing', target: place.target, migrations: TALLY_MIGRATIONS });
    try {
      const { rows } = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(db.db);
      // 2 is FULL.
      expect(rows[0]?.synchronous).toBe(2);
    } finally {
      await db.close();
    }
  });
});
