import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OutgoingRecord } from '../../contracts/src/events';
import { DEFAULT_OUTBOX_RELAY_OPTIONS, OutboxRelay } from './outbox-relay';
import type { OutboxLook, OutboxRow, RelayTurn } from './record-outbox';

/** An outbox in memory: what the relay sees of a RecordOutbox, turns and all. */
class MemoryOutbox implements OutboxLook {
  rows: OutboxRow[] = [];
  /** Reads of the outbox by relay turns. */
  turns = 0;
  private seq = 0;

  constructor(readonly soleRelay: boolean) {}

  append(key: string): void {
    this.seq += 1;
    this.rows.push({ seq: this.seq, record: { key } as OutgoingRecord });
  }

  async oldest(limit: number): Promise<OutboxRow[]> {
    return this.rows.slice(0, limit);
  }

  async count(): Promise<number> {
    return this.rows.length;
  }

  async relay(limit: number, publish: (records: OutgoingRecord[]) => Promise<void>): Promise<RelayTurn> {
    this.turns += 1;
    const batch = this.rows.slice(0, limit);
    if (batch.length > 0) await publish(batch.map((row) => row.record));
    this.rows = this.rows.slice(batch.length);
    return { relayed: true, rows: batch.length };
  }
}

/** Kafka as the relay sees it: each publish is one request, answered after `ackMs`. */
function recordingPublisher(ackMs = 0) {
  const requests: string[][] = [];
  return {
    requests,
    /** Runs inside the next publish, before it is answered. */
    during: null as (() => void) | null,
    async publish(records: readonly OutgoingRecord[]) {
      requests.push(records.map((record) => record.key));
      this.during?.();
      this.during = null;
      if (ackMs > 0) await new Promise((resolve) => setTimeout(resolve, ackMs));
    },
  };
}

/** A relay over an empty MemoryOutbox, sending to a recording publisher. */
function relayWith(lingerMs: number, ackMs = 0, soleRelay = true) {
  const outbox = new MemoryOutbox(soleRelay);
  const kafka = recordingPublisher(ackMs);
  const relay = new OutboxRelay(outbox, kafka, { ...DEFAULT_OUTBOX_RELAY_OPTIONS, lingerMs }, 'record');
  return { outbox, kafka, relay };
}

describe('OutboxRelay', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the rows appended during its linger in one request', async () => {
    const { outbox, kafka, relay } = relayWith(20);
    for (const key of ['a', 'b', 'c']) {
      outbox.append(key);
      relay.kick();
      await vi.advanceTimersByTimeAsync(5);
    }
    expect(kafka.requests).toEqual([]);
    await vi.advanceTimersByTimeAsync(10);
    expect(kafka.requests).toEqual([['a', 'b', 'c']]);
    expect(outbox.rows).toEqual([]);
  });

  it('with no linger, sends a row as soon as it is kicked', async () => {
    const { outbox, kafka, relay } = relayWith(0);
    outbox.append('a');
    relay.kick();
    await vi.advanceTimersByTimeAsync(0);
    expect(kafka.requests).toEqual([['a']]);
  });

  it('sends a row appended while a batch is in flight once that batch is acknowledged', async () => {
    const { outbox, kafka, relay } = relayWith(20, 50);
    outbox.append('a');
    relay.kick();
    await vi.advanceTimersByTimeAsync(30);
    expect(kafka.requests).toEqual([['a']]);
    outbox.append('b');
    relay.kick();
    await vi.advanceTimersByTimeAsync(200);
    expect(kafka.requests).toEqual([['a'], ['b']]);
    expect(outbox.rows).toEqual([]);
  });

  it('at shutdown sends what lingers without waiting for it, and nothing after', async () => {
    const { outbox, kafka, relay } = relayWith(60_000);
    outbox.append('a');
    relay.kick();
    await relay.drain(1000);
    expect(kafka.requests).toEqual([['a']]);
    outbox.append('b');
    relay.kick();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(kafka.requests).toEqual([['a']]);
    expect(outbox.rows.map((row) => row.record.key)).toEqual(['b']);
  });

  it('at shutdown also sends a row kicked while the last batch was in flight', async () => {
    const { outbox, kafka, relay } = relayWith(60_000, 50);
    outbox.append('a');
    const draining = relay.drain(10_000);
    await vi.advanceTimersByTimeAsync(10);
    outbox.append('b');
    relay.kick();
    await vi.advanceTimersByTimeAsync(500);
    await draining;
    expect(kafka.requests.flat()).toEqual(['a', 'b']);
    expect(outbox.rows).toEqual([]);
  });

  it('reads an outbox it alone relays once for a batch that was not full', async () => {
    const { outbox, kafka, relay } = relayWith(20);
    for (const key of ['a', 'b']) outbox.append(key);
    relay.kick();
    await vi.advanceTimersByTimeAsync(25);
    expect(kafka.requests).toEqual([['a', 'b']]);
    expect(outbox.turns).toBe(1);
  });

  it('on a shared outbox looks again at once for rows another replica appended meanwhile', async () => {
    const { outbox, kafka, relay } = relayWith(20, 5, false);
    outbox.append('a');
    kafka.during = () => outbox.append('from another replica');
    relay.kick();
    await vi.advanceTimersByTimeAsync(40);
    expect(kafka.requests).toEqual([['a'], ['from another replica']]);
    expect(outbox.turns).toBe(3);
  });

  it('after Kafka recovers, backs off from the shortest pause again at the next failure', async () => {
    const { outbox, kafka, relay } = relayWith(0);
    const attempts: string[] = [];
    let failures = 2;
    const send = kafka.publish.bind(kafka);
    kafka.publish = async (records) => {
      attempts.push(...records.map((record) => record.key));
      if (failures > 0) {
        failures -= 1;
        throw new Error('broker away');
      }
      await send(records);
    };
    outbox.append('a');
    relay.kick();
    // Fails at once and after 200 ms, then goes through after 400 more.
    await vi.advanceTimersByTimeAsync(600);
    expect(attempts).toEqual(['a', 'a', 'a']);
    failures = 1;
    outbox.append('b');
    relay.kick();
    await vi.advanceTimersByTimeAsync(0);
    expect(attempts).toEqual(['a', 'a', 'a', 'b']);
    await vi.advanceTimersByTimeAsync(DEFAULT_OUTBOX_RELAY_OPTIONS.minBackoffMs);
    expect(attempts).toEqual(['a', 'a', 'a', 'b', 'b']);
    expect(kafka.requests).toEqual([['a'], ['b']]);
    expect(outbox.rows).toEqual([]);
  });
});
