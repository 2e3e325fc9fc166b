import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiAuditService } from '../../apps/gateway/src/audit/api-audit.service';
import { AuditOutbox } from '../../apps/gateway/src/audit/audit-outbox';
import { createRequestContext } from '../../apps/gateway/src/http/request-context';
import { API_ACTIONS, apiAuditRecord, type OutgoingRecord } from '../../libs/contracts/src/events';
import type { EventPublisher } from '../../libs/kafka/src/event-publisher';
import { DIALECTS, type DisposableTarget, freshStoreTarget } from '../support/store-targets';

function record(requestId: string, volumeId = 'v'): OutgoingRecord {
  return apiAuditRecord({
    requestId,
    at: 1_700_000_000_000,
    action: API_ACTIONS.create,
    actor: { projectId: 'p', userId: 'u' },
    pathProjectId: 'p',
    target: { transferId: 't', volumeId },
    outcome: { status: 202, code: null },
    sourceIp: '10.1.2.3',
  });
}

const ids = (records: readonly OutgoingRecord[]) => records.map((r) => r.event.id);

/** Kafka as the relays see it: records what was acknowledged, and how many publishes overlapped. */
class RecordingSink implements EventPublisher {
  readonly acknowledged: OutgoingRecord[] = [];
  inFlight = 0;
  mostInFlight = 0;
  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    this.inFlight += 1;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      // Long enough for the other relay to try its turn meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 4));
      this.acknowledged.push(...records);
    } finally {
      this.inFlight -= 1;
    }
  }
}

describe.each(DIALECTS)('AuditOutbox on %s', (dialect) => {
  let place: DisposableTarget;
  let opened: AuditOutbox[];

  async function open(): Promise<AuditOutbox> {
    const outbox = await AuditOutbox.open(place.target);
    opened.push(outbox);
    return outbox;
  }

  beforeEach(async () => {
    place = await freshStoreTarget(dialect, 'gatewayOutbox');
    opened = [];
  });

  afterEach(async () => {
    for (const outbox of opened) await outbox.close();
    await place.dispose();
  });

  it('relays rows in insertion order, deletes only what was published, and keeps the rest for another opener', async () => {
    const outbox = await open();
    for (const id of ['r1', 'r2', 'r3']) await outbox.append(record(id));
    const sent: OutgoingRecord[][] = [];
    expect(await outbox.relay(2, async (records) => void sent.push(records))).toEqual({ relayed: true, rows: 2 });
    expect(sent).toEqual([[record('r1'), record('r2')]]);
    expect(await outbox.count()).toBe(1);

    await outbox.append(record('r4'));
    // Not closed: a second opener sees what a killed process committed.
    const reopened = await open();
    expect(ids((await reopened.oldest(10)).map((row) => row.record))).toEqual(['api/r3', 'api/r4']);
  });

  it('deletes nothing when the publish fails', async () => {
    const outbox = await open();
    await outbox.append(record('a'));
    await expect(
      outbox.relay(10, async () => {
        throw new Error('broker down');
      }),
    ).rejects.toThrow('broker down');
    expect(ids((await outbox.oldest(10)).map((row) => row.record))).toEqual(['api/a']);
  });

  it('never reuses a sequence number, and spares rows appended while a batch was in flight', async () => {
    const outbox = await open();
    await outbox.append(record('a'));
    const [first] = await outbox.oldest(1);
    await outbox.relay(10, async () => outbox.append(record('b')));
    const [second] = await outbox.oldest(1);
    expect(second.record.event.id).toBe('api/b');
    expect(second.seq).toBeGreaterThan(first.seq);
    expect(await outbox.count()).toBe(1);
    expect(await outbox.relay(10, async () => undefined)).toEqual({ relayed: true, rows: 1 });
    expect(await outbox.relay(10, async () => undefined)).toEqual({ relayed: true, rows: 0 });
  });

  it('reads as empty once closed', async () => {
    const outbox = await open();
    await outbox.append(record('a'));
    await outbox.close();
    expect(await outbox.oldest(10)).toEqual([]);
    expect(await outbox.count()).toBe(0);
    expect(await outbox.relay(10, async () => undefined)).toEqual({ relayed: true, rows: 0 });
  });

  it.runIf(dialect === 'sqlite')('takes over a file from the SQLite release, rows unsent included', async () => {
    if (place.target.dialect !== 'sqlite') return;
    fs.mkdirSync(path.dirname(place.target.file), { recursive: true });
    const old = new Database(place.target.file);
    old.exec('CREATE TABLE audit_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL)');
    old.prepare('INSERT INTO audit_outbox (record) VALUES (?)').run(JSON.stringify(record('left-behind')));
    old.close();

    const outbox = await open();
    await outbox.append(record('new'));
    const sent: OutgoingRecord[] = [];
    await outbox.relay(10, async (records) => void sent.push(...records));
    expect(ids(sent)).toEqual(['api/left-behind', 'api/new']);
  });

  describe.runIf(dialect === 'postgres')('two gateways on one database', () => {
    beforeAll(() => Logger.overrideLogger(false));
    afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));

    it('relay at once into one sink: every row exactly once, one publish at a time, each key in order', async () => {
      const sink = new RecordingSink();
      const options = { batchSize: 7, minBackoffMs: 5, maxBackoffMs: 20, pollMs: 5, lingerMs: 20 };
      const gateways = [new ApiAuditService(sink, options, await open()), new ApiAuditService(sink, options, await open())];
      await Promise.all(gateways.map((g) => g.onApplicationBootstrap()));

      // Each key's records are written one after the other, alternately by
      // the two gateways (as a client's successive calls may land on either);
      // the keys are written side by side.
      const written = new Map<string, string[]>();
      await Promise.all(
        ['v1', 'v2', 'v3', 'v4', 'v5'].map(async (volumeId) => {
          const order: string[] = [];
          written.set(volumeId, order);
          for (let n = 0; n < 40; n++) {
            const context = createRequestContext({ socket: { remoteAddress: '10.1.2.3' } } as never);
            context.action = API_ACTIONS.delete;
            context.target = { transferId: 't', volumeId };
            await gateways[n % 2].recordOutcome(context, 202, null);
            order.push(`api/${context.requestId}`);
          }
        }),
      );
      await vi.waitFor(async () => expect(await opened[0].count()).toBe(0), { timeout: 20_000, interval: 20 });
      for (const gateway of gateways) await gateway.drain(1000);

      const sent = ids(sink.acknowledged);
      expect(sent).toHaveLength(200);
      expect(new Set(sent).size).toBe(200);
      expect(sink.mostInFlight).toBe(1);
      for (const [volumeId, order] of written) {
        expect(sink.acknowledged.filter((r) => r.key === volumeId).map((r) => r.event.id)).toEqual(order);
      }
    });

    it('hands the relay to the other gateway when the relaying one loses its connection', async () => {
      if (place.target.dialect !== 'postgres') return;
      const first = await open();
      const second = await open();
      for (const id of ['a', 'b']) await first.append(record(id));

      let release!: () => void;
      const stuck = new Promise<void>((resolve) => (release = resolve));
      let publishing!: () => void;
      const started = new Promise<void>((resolve) => (publishing = resolve));
      const firstTurn = first.relay(10, async () => {
        publishing();
        await stuck;
      });
      await started;
      expect(await second.relay(10, async () => undefined)).toEqual({ relayed: false });

      // The server drops the relaying connection, as when its host goes away.
      const admin = new Client({ connectionString: place.target.url });
      await admin.connect();
      try {
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`);
      } finally {
        await admin.end();
      }

      const sent: OutgoingRecord[] = [];
      await vi.waitFor(async () => expect(await second.relay(10, async (records) => void sent.push(...records))).toEqual({ relayed: true, rows: 2 }));
      expect(ids(sent)).toEqual(['api/a', 'api/b']);
      release();
      // The first relay's deletes never commit: its batch goes out twice at most, never lost.
      await expect(firstTurn).rejects.toThrow();
      expect(await second.count()).toBe(0);
    });
  });
});
