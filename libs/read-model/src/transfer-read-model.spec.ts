import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransferReadModel, type PendingTransferInput } from './transfer-read-model';

const P1 = 'project-one';
const P2 = 'project-two';
const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const HOUR = 3_600_000;

let dir: string;
let dbPath: string;
let clock: number;
let models: TransferReadModel[];

function open(): TransferReadModel {
  const model = TransferReadModel.open(dbPath, { now: () => clock });
  models.push(model);
  return model;
}

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

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'read-model-'));
  dbPath = path.join(dir, 'nested', 'transfers.sqlite');
  clock = T0 + HOUR;
  models = [];
});

afterEach(() => {
  for (const m of models) m.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('TransferReadModel', () => {
  it('creates the file and its folder, in WAL mode with the index lists use', () => {
    open();
    expect(fs.existsSync(dbPath)).toBe(true);
    const raw = new Database(dbPath, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      const indexes = raw.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transfers'").all() as {
        sql: string | null;
      }[];
      expect(indexes.map((i) => i.sql)).toContainEqual(expect.stringContaining('(project_id, status, created_at, id)'));
    } finally {
      raw.close();
    }
  });

  it('opens an existing file again without re-running migrations', () => {
    const a = open();
    const row = pending();
    a.recordPending(row);
    a.close();
    const b = open();
    expect(b.findPending(P1, row.id)?.name).toBe(row.name);
  });

  it('finds a pending transfer only for its own project', () => {
    const m = open();
    const row = pending();
    m.recordPending(row);
    expect(m.findPending(P1, row.id)).toEqual({
      ...row,
      status: 'pending',
      endedAtMs: null,
      destinationProjectId: null,
    });
    expect(m.findPending(P2, row.id)).toBeNull();
    expect(m.findPending(P1, pending().id)).toBeNull();
  });

  it('recordPending is idempotent', () => {
    const m = open();
    const row = pending();
    m.recordPending(row);
    m.recordPending(row);
    expect(m.listPending(P1, { limit: 10, offset: 0 })).toHaveLength(1);
  });

  it.each(['accepted', 'deleted', 'expired'] as const)('an %s transfer is no longer pending and never comes back', (outcome) => {
    const m = open();
    const row = pending();
    m.recordPending(row);
    m.recordEnded(row.id, outcome, T0 + 2 * HOUR, outcome === 'accepted' ? P2 : null);
    expect(m.findPending(P1, row.id)).toBeNull();
    m.recordPending(row);
    expect(m.findPending(P1, row.id)).toBeNull();
    expect(m.listPending(P1, { limit: 10, offset: 0 })).toEqual([]);
  });

  it('keeps the first ending when endings repeat or race', () => {
    const m = open();
    const row = pending();
    m.recordPending(row);
    m.recordEnded(row.id, 'accepted', T0 + 2 * HOUR, P2);
    m.recordEnded(row.id, 'accepted', T0 + 3 * HOUR, P2);
    m.recordEnded(row.id, 'expired', T0 + 4 * HOUR, null);
    const raw = new Database(dbPath, { readonly: true });
    try {
      expect(raw.prepare('SELECT status, ended_at, destination_project_id FROM transfers WHERE id = ?').get(row.id)).toEqual({
        status: 'accepted',
        ended_at: T0 + 2 * HOUR,
        destination_project_id: P2,
      });
    } finally {
      raw.close();
    }
  });

  it('an ending recorded before the pending row stops the pending row from appearing', () => {
    const m = open();
    const row = pending();
    m.recordEnded(row.id, 'deleted', T0 + 2 * HOUR, null);
    m.recordPending(row);
    expect(m.findPending(P1, row.id)).toBeNull();
  });

  it('lists oldest first, then by id, paged by limit and offset, only the own project', () => {
    const m = open();
    const late = pending({ createdAtMs: T0 + 2000, id: '00000000-0000-4000-8000-00000000000a' });
    const tieB = pending({ createdAtMs: T0 + 1000, id: '00000000-0000-4000-8000-00000000000c' });
    const tieA = pending({ createdAtMs: T0 + 1000, id: '00000000-0000-4000-8000-00000000000b' });
    const first = pending({ createdAtMs: T0 });
    const other = pending({ projectId: P2 });
    for (const r of [late, tieB, tieA, first, other]) m.recordPending(r);
    const ids = (page: { limit: number; offset: number }) => m.listPending(P1, page).map((r) => r.id);
    expect(ids({ limit: 1000, offset: 0 })).toEqual([first.id, tieA.id, tieB.id, late.id]);
    expect(ids({ limit: 2, offset: 1 })).toEqual([tieA.id, tieB.id]);
    expect(ids({ limit: 10, offset: 4 })).toEqual([]);
    expect(m.listPending(P2, { limit: 10, offset: 0 }).map((r) => r.id)).toEqual([other.id]);
  });

  it('lists every project’s pending transfers in the same order and pages, through its own index', () => {
    const m = open();
    const b1 = pending({ projectId: P2, createdAtMs: T0 + 1000, id: '00000000-0000-4000-8000-0000000000b1' });
    const a1 = pending({ projectId: P1, createdAtMs: T0 + 1000, id: '00000000-0000-4000-8000-0000000000a1' });
    const a0 = pending({ projectId: P1, createdAtMs: T0 });
    const ended = pending({ projectId: P2, createdAtMs: T0 - 1 });
    const lapsed = pending({ projectId: P2, createdAtMs: T0 - 2, expiresAtMs: clock });
    for (const r of [b1, a1, a0, ended, lapsed]) m.recordPending(r);
    m.recordEnded(ended.id, 'accepted', clock, P1);
    const ids = (page: { limit: number; offset: number }) => m.listPendingAllProjects(page).map((r) => [r.projectId, r.id]);
    expect(ids({ limit: 1000, offset: 0 })).toEqual([
      [P1, a0.id],
      [P1, a1.id],
      [P2, b1.id],
    ]);
    expect(ids({ limit: 1, offset: 2 })).toEqual([[P2, b1.id]]);
    const raw = new Database(dbPath, { readonly: true });
    try {
      const plan = raw
        .prepare(
          "EXPLAIN QUERY PLAN SELECT id FROM transfers WHERE status = 'pending' AND expires_at > ? ORDER BY created_at ASC, id ASC LIMIT 10",
        )
        .all(clock) as { detail: string }[];
      expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING INDEX transfers_by_status/);
      expect(plan.map((p) => p.detail).join('\n')).not.toMatch(/TEMP B-TREE/);
    } finally {
      raw.close();
    }
  });

  it('finds a transfer by id in any project and state', () => {
    const m = open();
    const row = pending({ projectId: P2 });
    m.recordPending(row);
    expect(m.findAnyProject(row.id)).toMatchObject({ projectId: P2, volumeId: row.volumeId, status: 'pending' });
    m.recordEnded(row.id, 'deleted', T0 + 2 * HOUR, null);
    expect(m.findAnyProject(row.id)).toMatchObject({ projectId: P2, status: 'deleted' });
    expect(m.findAnyProject(pending().id)).toBeNull();
  });

  it('hides a transfer past its expiry even before the expiry is recorded', () => {
    const m = open();
    const row = pending({ expiresAtMs: T0 + 2 * HOUR });
    m.recordPending(row);
    expect(m.findPending(P1, row.id)).not.toBeNull();
    clock = T0 + 2 * HOUR;
    expect(m.findPending(P1, row.id)).toBeNull();
    expect(m.listPending(P1, { limit: 10, offset: 0 })).toEqual([]);
  });

  it('a second connection (the gateway) sees what the first (the worker) wrote', () => {
    const writer = open();
    const reader = open();
    const row = pending();
    writer.recordPending(row);
    expect(reader.findPending(P1, row.id)?.id).toBe(row.id);
    writer.recordEnded(row.id, 'deleted', T0 + 2 * HOUR, null);
    expect(reader.findPending(P1, row.id)).toBeNull();
  });

  it('keeps a null name', () => {
    const m = open();
    const row = pending({ name: null });
    m.recordPending(row);
    expect(m.findPending(P1, row.id)?.name).toBeNull();
  });
});
