import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_SOURCE, type OutgoingRecord } from '../../contracts/src/events';
import { toBinaryModeMessage } from '../../kafka/src/cloud-event-record';
import { openConsumerDatabase } from './consumer-database';
import { type ConsumedRecord, type EventHandler, ExactlyOnceProcessor } from './event-processor';

/**
 * A deliberately non-idempotent application: every applied event adds its
 * amount to a counter. Applying one twice would show.
 */
const TALLY_MIGRATIONS = [{ id: 'tally/1', sql: 'CREATE TABLE tally (name TEXT PRIMARY KEY, total INTEGER NOT NULL) STRICT' }];

function tallyHandler(db: Database.Database, options: { failOn?: (amount: number) => Error | undefined } = {}): EventHandler<{ name: string; amount: number }> {
  const add = db.prepare(
    'INSERT INTO tally (name, total) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET total = total + excluded.total',
  );
  return {
    decide(event) {
      if (event.type === 'test.noted.v1') return { kind: 'ignore' };
      if (event.type !== 'test.added.v1') return { kind: 'unknown', detail: `unknown event type ${event.type}` };
      const data = event.data as { name?: unknown; amount?: unknown };
      if (typeof data.name !== 'string' || typeof data.amount !== 'number') return { kind: 'invalid', detail: 'name and amount required' };
      return { kind: 'apply', effect: { name: data.name, amount: data.amount } };
    },
    apply({ name, amount }) {
      const failure = options.failOn?.(amount);
      add.run(name, amount);
      if (failure) throw failure;
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

let dir: string;
let db: Database.Database;
const total = (name: string) => (db.prepare('SELECT total FROM tally WHERE name = ?').pluck().get(name) as number | undefined) ?? 0;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evs-consumer-'));
  db = openConsumerDatabase(path.join(dir, 'consumer.sqlite'), TALLY_MIGRATIONS);
});
afterEach(() => {
  if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('ExactlyOnceProcessor', () => {
  it('applies each event once, however often and wherever it is delivered again', () => {
    const processor = new ExactlyOnceProcessor(db, tallyHandler(db));
    const first = [record('e-1', { name: 'a', amount: 5 }), record('e-2', { name: 'a', amount: 7 })];

    expect(processor.processAll(first)).toEqual(['applied', 'applied']);
    // The same records again (a crash before the offset commit), and a
    // re-sent copy at a later offset (a producer retry).
    expect(processor.processAll(first)).toEqual(['duplicate', 'duplicate']);
    expect(processor.processAll([record('e-1', { name: 'a', amount: 5 })])).toEqual(['duplicate']);

    expect(total('a')).toBe(12);
    expect(processor.metrics()).toMatchObject({
      since_start: { processed: 2, applied: 2, duplicates: 3, skipped: { unknown: 0, malformed: 0, failed: 0 } },
      stored: { events: 2, by_outcome: { applied: 2 } },
    });
  });

  it('remembers what took effect across a restart: a new processor on the reopened file sees duplicates', () => {
    const file = db.name;
    new ExactlyOnceProcessor(db, tallyHandler(db)).processAll([record('e-1', { name: 'a', amount: 5 })]);
    db.close();

    db = openConsumerDatabase(file, TALLY_MIGRATIONS);
    const again = new ExactlyOnceProcessor(db, tallyHandler(db));
    expect(again.processAll([record('e-1', { name: 'a', amount: 5 }), record('e-2', { name: 'a', amount: 1 })])).toEqual(['duplicate', 'applied']);
    expect(total('a')).toBe(6);
  });

  it('skips an unknown type and damaged records, keeps them as dead letters, and goes on with the next record', () => {
    const processor = new ExactlyOnceProcessor(db, tallyHandler(db), { logger: silent });
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

    expect(processor.processAll(batch)).toEqual(['unknown', 'malformed', 'malformed', 'malformed', 'ignored', 'applied']);
    expect(total('a')).toBe(1);
    // Delivered again after a crash: nothing new is kept or counted as skipped.
    expect(processor.processAll(batch)).toEqual(Array(6).fill('duplicate'));

    const letters = db.prepare('SELECT reason, event_id, event_type, detail, value FROM dead_letters ORDER BY kafka_partition, CAST(kafka_offset AS INTEGER)').all() as {
      reason: string;
      event_id: string | null;
      event_type: string | null;
      detail: string;
      value: Buffer;
    }[];
    expect(letters.map((l) => [l.reason, l.event_id])).toEqual([
      ['unknown', 'e-new'],
      // Unreadable: no id to record it by, only its position.
      ['malformed', null],
      ['malformed', 'e-invalid'],
      ['malformed', null],
    ]);
    expect(letters[0]?.detail).toBe('unknown event type test.added.v2');
    expect(letters[1]?.value.toString()).toBe('{not json');
    expect(letters[1]?.detail).toMatch(/value is not JSON/);
    expect(letters[2]?.detail).toBe('name and amount required');
    expect(letters[3]?.detail).toMatch(/missing header ce_specversion/);
    expect(processor.metrics()).toMatchObject({
      since_start: { processed: 2, applied: 1, ignored: 1, duplicates: 6, skipped: { unknown: 1, malformed: 3, failed: 0 } },
      stored: { dead_letters: { unknown: 1, malformed: 3, failed: 0 } },
    });
  });

  it('sets aside an event the application fails on, undoing its partial effect, and keeps the rest of the batch', () => {
    const processor = new ExactlyOnceProcessor(
      db,
      tallyHandler(db, { failOn: (amount) => (amount < 0 ? new RangeError('negative amount') : undefined) }),
      { logger: silent },
    );

    expect(processor.processAll([record('e-1', { name: 'a', amount: 2 }), record('e-2', { name: 'a', amount: -50 }), record('e-3', { name: 'a', amount: 3 })])).toEqual([
      'applied',
      'failed',
      'applied',
    ]);
    expect(total('a')).toBe(5);
    expect(db.prepare("SELECT detail FROM dead_letters WHERE reason = 'failed'").pluck().all()).toEqual(['negative amount']);
  });

  it('commits nothing of a batch when the database fails, so the whole batch can be delivered again', () => {
    const busy = Object.assign(new Database.SqliteError('database is locked', 'SQLITE_BUSY'), {});
    const processor = new ExactlyOnceProcessor(db, tallyHandler(db, { failOn: (amount) => (amount === 13 ? busy : undefined) }));
    const batch = [record('e-1', { name: 'a', amount: 2 }), record('e-2', { name: 'a', amount: 13 })];

    expect(() => processor.processAll(batch)).toThrow(/database is locked/);
    expect(total('a')).toBe(0);
    expect(processor.metrics().stored.events).toBe(0);
    expect(processor.metrics().since_start.processed).toBe(0);
  });

  it('keeps its ledger append-only: the database refuses to change or remove a row', () => {
    const processor = new ExactlyOnceProcessor(db, tallyHandler(db), { logger: silent });
    processor.processAll([record('e-1', { name: 'a', amount: 1 }), record('e-x', {}, 'test.other.v1')]);

    expect(() => db.prepare("UPDATE consumed_events SET outcome = 'ignored'").run()).toThrow(/consumed_events is append-only/);
    expect(() => db.prepare('DELETE FROM consumed_events').run()).toThrow(/consumed_events is append-only/);
    expect(() => db.prepare('DELETE FROM dead_letters').run()).toThrow(/dead_letters is append-only/);
  });
});

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
