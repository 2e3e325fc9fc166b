import Database from 'better-sqlite3';
import { Client } from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_ACTIONS, apiAuditRecord, type OutgoingRecord } from '../../libs/contracts/src/events';
import { type PendingTransferInput, TransferReadModel } from '../../libs/read-model/src/transfer-read-model';
import { DIALECTS, type DisposableTarget, freshStoreTarget } from '../support/store-targets';

const P1 = 'project-one';
const P2 = 'project-two';
const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const HOUR = 3_600_000;

let seq = 0;
function pending(overrides: Partial<PendingTransferInput> = {}): PendingTransferInput {
  seq += 1;
  const suffix = seq.toString(16).padStart(12, '0');
  return {
    id: `00000000-0000-4000-8000-${suffix}`,
    name: `t${seq}`,
    volumeId: `11111111-0000-4000-8000-${suffix}`,
    projectId: P1,
    createdAtMs: T0,
    expiresAtMs: T0 + 72 * HOUR,
    ...overrides,
  };
}

/** Any record will do for the outbox: an API audit one, its id made to look like an event's. */
function record(id: string, trace?: Record<string, string>): OutgoingRecord {
  const made = apiAuditRecord({
    requestId: id,
    at: T0,
    action: API_ACTIONS.create,
    actor: { projectId: P1, userId: 'u' },
    pathProjectId: P1,
    target: { transferId: 't', volumeId: 'v' },
    outcome: { status: 202, code: null },
    sourceIp: '10.1.2.3',
  });
  return { ...made, event: { ...made.event, id }, ...(trace ? { trace } : {}) };
}

describe.each(DIALECTS)('TransferReadModel on %s', (dialect) => {
  let place: DisposableTarget;
  let clock: number;
  let models: TransferReadModel[];

  async function open(): Promise<TransferReadModel> {
    const model = await TransferReadModel.open(place.target, { now: () => clock });
    models.push(model);
    return model;
  }

  /** The stored row as the database has it, read with the database's own client. */
  async function rawRow(id: string): Promise<Record<string, unknown> | undefined> {
    const query = 'SELECT status, ended_at, destination_project_id FROM transfers WHERE id = ';
    if (place.target.dialect === 'sqlite') {
      const raw = new Database(place.target.file, { readonly: true });
      try {
        return raw.prepare(`${query}?`).get(id) as Record<string, unknown> | undefined;
      } finally {
        raw.close();
      }
    }
    const client = new Client({ connectionString: place.target.url });
    await client.connect();
    try {
      const result = await client.query(`${query}$1`.replace('transfers', `${place.target.schema}.transfers`), [id]);
      const row = result.rows[0] as Record<string, unknown> | undefined;
      return row && { ...row, ended_at: row.ended_at === null ? null : Number(row.ended_at) };
    } finally {
      await client.end();
    }
  }

  beforeEach(async () => {
    place = await freshStoreTarget(dialect, 'readModel');
    clock = T0 + HOUR;
    models = [];
  });

  afterEach(async () => {
    for (const m of models) await m.close();
    await place.dispose();
  });

  it('opens an existing database again without re-running migrations', async () => {
    const a = await open();
    const row = pending();
    await a.recordPending(row);
    await a.close();
    models = models.filter((m) => m !== a);
    const b = await open();
    expect((await b.findPending(P1, row.id))?.name).toBe(row.name);
  });

  it('two replicas opening an empty database at once both come up on one schema', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const row = pending();
    await a.recordPending(row);
    expect((await b.findPending(P1, row.id))?.id).toBe(row.id);
  });

  it('keeps the transfers’ events in an outbox of its own, relayed oldest first by one replica at a time, with the trace each was made in', async () => {
    const worker1 = (await open()).eventOutbox();
    const worker2 = (await open()).eventOutbox();
    await worker1.append(record('a/created', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }), record('a/accepted'));
    await worker2.append(record('b/created'));
    expect(await worker2.count()).toBe(3);
    const sent: { id: string; trace?: Record<string, string> }[] = [];
    let elsewhere: unknown;
    await worker1.relay(2, async (records) => {
      // While one replica relays, the other on the same database waits its turn (SQLite: one host, no election).
      if (dialect === 'postgres') elsewhere = await worker2.relay(10, async () => undefined);
      sent.push(...records.map((r) => ({ id: r.event.id, trace: r.trace })));
    });
    if (dialect === 'postgres') expect(elsewhere).toEqual({ relayed: false });
    expect(sent).toEqual([
      { id: 'a/created', trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } },
      { id: 'a/accepted', trace: undefined },
    ]);
    expect((await worker2.oldest(10)).map((row) => row.record.event.id)).toEqual(['b/created']);
  });

  it('writes a row and the events it carries together, or neither', async () => {
    const m = await open();
    const row = pending();
    await m.recordPending(row, [record(`${row.id}/created`)]);
    await m.recordEnded(row.id, 'accepted', T0 + 2 * HOUR, P2, [record(`${row.id}/accepted`)]);
    expect(await rawRow(row.id)).toEqual({ status: 'accepted', ended_at: T0 + 2 * HOUR, destination_project_id: P2 });
    expect((await m.eventOutbox().oldest(10)).map((r) => r.record.event.id)).toEqual([`${row.id}/created`, `${row.id}/accepted`]);

    // An append that fails (here: the outbox closed for shutdown) takes the row's write back with it.
    const other = pending();
    m.eventOutbox().markClosed();
    await expect(m.recordPending(other, [record(`${other.id}/created`)])).rejects.toThrow(/closed/);
    expect(await rawRow(other.id)).toBeUndefined();
  });

  it('finds a pending transfer only for its own project', async () => {
    const m = await open();
    const row = pending();
    await m.recordPending(row);
    expect(await m.findPending(P1, row.id)).toEqual({ ...row, status: 'pending', endedAtMs: null, destinationProjectId: null });
    expect(await m.findPending(P2, row.id)).toBeNull();
    expect(await m.findPending(P1, pending().id)).toBeNull();
  });

  it('recordPending is idempotent', async () => {
    const m = await open();
    const row = pending();
    await m.recordPending(row);
    await m.recordPending(row);
    expect(await m.listPending(P1, { limit: 10, offset: 0 })).toHaveLength(1);
  });

  it.each(['accepted', 'deleted', 'expired'] as const)('an %s transfer is no longer pending and never comes back', async (outcome) => {
    const m = await open();
    const row = pending();
    await m.recordPending(row);
    await m.recordEnded(row.id, outcome, T0 + 2 * HOUR, outcome === 'accepted' ? P2 : null);
    expect(await m.findPending(P1, row.id)).toBeNull();
    await m.recordPending(row);
    expect(await m.findPending(P1, row.id)).toBeNull();
    expect(await m.listPending(P1, { limit: 10, offset: 0 })).toEqual([]);
  });

  it('keeps the first ending when endings repeat or race', async () => {
    const m = await open();
    const row = pending();
    await m.recordPending(row);
    await m.recordEnded(row.id, 'accepted', T0 + 2 * HOUR, P2);
    await m.recordEnded(row.id, 'accepted', T0 + 3 * HOUR, P2);
    await m.recordEnded(row.id, 'expired', T0 + 4 * HOUR, null);
    expect(await rawRow(row.id)).toEqual({ status: 'accepted', ended_at: T0 + 2 * HOUR, destination_project_id: P2 });
  });

  it('an ending recorded before the pending row stops the pending row from appearing', async () => {
    const m = await open();
    const row = pending();
    await m.recordEnded(row.id, 'deleted', T0 + 2 * HOUR, null);
    await m.recordPending(row);
    expect(await m.findPending(P1, row.id)).toBeNull();
  });

  it('writers on separate connections racing pending against ending always end with the ending', async () => {
    const [w1, w2] = await Promise.all([open(), open()]);
    const rows = Array.from({ length: 40 }, () => pending());
    await Promise.all(
      rows.flatMap((row, i) => {
        const ending = () => (i % 2 === 0 ? w1 : w2).recordEnded(row.id, 'accepted', T0 + 2 * HOUR, P2);
        const start = () => (i % 2 === 0 ? w2 : w1).recordPending(row);
        return i % 3 === 0 ? [ending(), start()] : [start(), ending()];
      }),
    );
    for (const row of rows) expect(await rawRow(row.id)).toMatchObject({ status: 'accepted' });
    expect(await w1.listPending(P1, { limit: 100, offset: 0 })).toEqual([]);
  });

  it('lists oldest first, then by id, paged by limit and offset, only the own project', async () => {
    const m = await open();
    const late = pending({ createdAtMs: T0 + 2000, id: '00000000-0000-4000-8000-00000000000a' });
    const tieB = pending({ createdAtMs: T0 + 1000, id: '00000000-0000-4000-8000-00000000000c' });
    const tieA = pending({ createdAtMs: T0 + 1000, id: '00000000-0000-4000-8000-00000000000b' });
    const first = pending({ createdAtMs: T0 });
    const other = pending({ projectId: P2 });
    for (const r of [late, tieB, tieA, first, other]) await m.recordPending(r);
    const ids = async (page: { limit: number; offset: number }) => (await m.listPending(P1, page)).map((r) => r.id);
    expect(await ids({ limit: 1000, offset: 0 })).toEqual([first.id, tieA.id, tieB.id, late.id]);
    expect(await ids({ limit: 2, offset: 1 })).toEqual([tieA.id, tieB.id]);
    expect(await ids({ limit: 10, offset: 4 })).toEqual([]);
    expect((await m.listPending(P2, { limit: 10, offset: 0 })).map((r) => r.id)).toEqual([other.id]);
  });

  it('lists every project’s pending transfers in the same order and pages', async () => {
    const m = await open();
    const b1 = pending({ projectId: P2, createdAtMs: T0 + 1000, id: '00000000-0000-4000-8000-0000000000b1' });
    const a1 = pending({ projectId: P1, createdAtMs: T0 + 1000, id: '00000000-0000-4000-8000-0000000000a1' });
    const a0 = pending({ projectId: P1, createdAtMs: T0 });
    const ended = pending({ projectId: P2, createdAtMs: T0 - 1 });
    const lapsed = pending({ projectId: P2, createdAtMs: T0 - 2, expiresAtMs: clock });
    for (const r of [b1, a1, a0, ended, lapsed]) await m.recordPending(r);
    await m.recordEnded(ended.id, 'accepted', clock, P1);
    const ids = async (page: { limit: number; offset: number }) => (await m.listPendingAllProjects(page)).map((r) => [r.projectId, r.id]);
    expect(await ids({ limit: 1000, offset: 0 })).toEqual([
      [P1, a0.id],
      [P1, a1.id],
      [P2, b1.id],
    ]);
    expect(await ids({ limit: 1, offset: 2 })).toEqual([[P2, b1.id]]);
  });

  it('sums up the pending transfers for the operators: how many, the oldest, the earliest expiry, lapsed ones included', async () => {
    const m = await open();
    expect(await m.pendingSummary()).toEqual({ count: 0, oldestCreatedAtMs: null, earliestExpiresAtMs: null });
    const lapsed = pending({ createdAtMs: T0 - 5 * HOUR, expiresAtMs: T0 - HOUR });
    const young = pending({ projectId: P2, createdAtMs: T0 });
    const ended = pending({ createdAtMs: T0 - 9 * HOUR });
    for (const r of [lapsed, young, ended]) await m.recordPending(r);
    await m.recordEnded(ended.id, 'deleted', T0, null);
    expect(await m.pendingSummary()).toEqual({ count: 2, oldestCreatedAtMs: T0 - 5 * HOUR, earliestExpiresAtMs: T0 - HOUR });
  });

  it('finds a transfer by id in any project and state', async () => {
    const m = await open();
    const row = pending({ projectId: P2 });
    await m.recordPending(row);
    expect(await m.findAnyProject(row.id)).toMatchObject({ projectId: P2, volumeId: row.volumeId, status: 'pending' });
    await m.recordEnded(row.id, 'deleted', T0 + 2 * HOUR, null);
    expect(await m.findAnyProject(row.id)).toMatchObject({ projectId: P2, status: 'deleted' });
    expect(await m.findAnyProject(pending().id)).toBeNull();
  });

  it('hides a transfer past its expiry even before the expiry is recorded', async () => {
    const m = await open();
    const row = pending({ expiresAtMs: T0 + 2 * HOUR });
    await m.recordPending(row);
    expect(await m.findPending(P1, row.id)).not.toBeNull();
    clock = T0 + 2 * HOUR;
    expect(await m.findPending(P1, row.id)).toBeNull();
    expect(await m.listPending(P1, { limit: 10, offset: 0 })).toEqual([]);
  });

  it('a second connection (the gateway) sees what the first (the worker) wrote', async () => {
    const writer = await open();
    const reader = await open();
    const row = pending();
    await writer.recordPending(row);
    expect((await reader.findPending(P1, row.id))?.id).toBe(row.id);
    await writer.recordEnded(row.id, 'deleted', T0 + 2 * HOUR, null);
    expect(await reader.findPending(P1, row.id)).toBeNull();
  });

  it('keeps a null name and epoch milliseconds past 2^31 as numbers', async () => {
    const m = await open();
    const row = pending({ name: null });
    await m.recordPending(row);
    const found = await m.findPending(P1, row.id);
    expect(found?.name).toBeNull();
    expect(found?.createdAtMs).toBe(T0);
    expect(typeof found?.expiresAtMs).toBe('number');
  });
});
