import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FindingLedger } from '../../apps/worker/src/reconciler/finding-ledger';
import { DIALECTS, type DisposableTarget, freshStoreTarget } from '../support/store-targets';

/** Announces nothing anywhere: for the calls whose point is what gets remembered. */
const quietly = async (): Promise<void> => undefined;

describe.each(DIALECTS)('FindingLedger on %s', (dialect) => {
  let place: DisposableTarget;
  let opened: FindingLedger[];

  async function open(): Promise<FindingLedger> {
    const ledger = await FindingLedger.open(place.target);
    opened.push(ledger);
    return ledger;
  }

  /**
   * Two workers on one database: two processes on PostgreSQL. A SQLite file
   * has one process, whose calls share its one connection; two connections
   * in one process would stall each other in SQLite's busy wait, which
   * blocks the event loop.
   */
  async function twoWorkers(): Promise<[FindingLedger, FindingLedger]> {
    if (dialect === 'sqlite') {
      const ledger = await open();
      return [ledger, ledger];
    }
    return [await open(), await open()];
  }

  beforeEach(async () => {
    place = await freshStoreTarget(dialect, 'reconciler');
    opened = [];
  });

  afterEach(async () => {
    for (const ledger of opened) await ledger.close();
    await place.dispose();
  });

  it('answers which ids were never reported, in the order asked', async () => {
    const ledger = await open();
    expect(await ledger.unreported([])).toEqual([]);
    expect(await ledger.unreported(['b', 'a', 'c'])).toEqual(['b', 'a', 'c']);
    await ledger.announceOnce(['a'], 1, quietly);
    expect(await ledger.unreported(['b', 'a', 'c'])).toEqual(['b', 'c']);
  });

  it('announces only the new ids, in the order given, and remembers them across a reopen', async () => {
    const ledger = await open();
    const announced: string[][] = [];
    const announce = async (fresh: string[]) => void announced.push(fresh);
    expect(await ledger.announceOnce(['reconciler/t/d/orphaned_lock'], 1, announce)).toEqual(['reconciler/t/d/orphaned_lock']);
    expect(await ledger.announceOnce(['z', 'reconciler/t/d/orphaned_lock', 'x'], 2, announce)).toEqual(['z', 'x']);
    expect(announced).toEqual([['reconciler/t/d/orphaned_lock'], ['z', 'x']]);
    // A second opener, as another worker process on the same database would see it.
    const other = await open();
    expect(await other.unreported(['reconciler/t/d/orphaned_lock', 'x', 'y', 'z'])).toEqual(['y']);
  });

  it('remembers nothing when the announcement fails', async () => {
    const ledger = await open();
    await expect(
      ledger.announceOnce(['a', 'b'], 1, async () => {
        throw new Error('broker down');
      }),
    ).rejects.toThrow('broker down');
    expect(await ledger.unreported(['a', 'b'])).toEqual(['a', 'b']);
  });

  it('takes ids with quotes and other JSON-significant characters literally', async () => {
    const ledger = await open();
    const odd = ['a"b', "c'd", 'e\\f', '[1]'];
    await ledger.announceOnce(odd.slice(0, 2), 1, quietly);
    expect(await ledger.unreported(odd)).toEqual(odd.slice(2));
  });

  it('two workers announcing overlapping findings at once: each finding is announced once', async () => {
    const workers = await twoWorkers();
    const announced: string[] = [];
    const sets = [
      ['f1', 'f2', 'f3', 'f4'],
      ['f4', 'f3', 'f5', 'f1'],
    ];
    const results = await Promise.all(
      workers.map((ledger, n) =>
        ledger.announceOnce(sets[n], 1, async (fresh) => {
          // Long enough for the other worker's claim to arrive meanwhile.
          await new Promise((resolve) => setTimeout(resolve, 50));
          announced.push(...fresh);
        }),
      ),
    );
    expect([...announced].sort()).toEqual(['f1', 'f2', 'f3', 'f4', 'f5']);
    expect([...results.flat()].sort()).toEqual(['f1', 'f2', 'f3', 'f4', 'f5']);
  });

  it('a worker whose announcement failed leaves the findings to one announcing at the same time', async () => {
    const [failing, healthy] = await twoWorkers();
    let failNow!: () => void;
    const failed = failing.announceOnce(['f1'], 1, () => new Promise<void>((_, reject) => (failNow = () => reject(new Error('broker down')))));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const announced: string[] = [];
    const second = healthy.announceOnce(['f1'], 2, async (fresh) => void announced.push(...fresh));
    await new Promise((resolve) => setTimeout(resolve, 50));
    failNow();
    await expect(failed).rejects.toThrow('broker down');
    expect(await second).toEqual(['f1']);
    expect(announced).toEqual(['f1']);
  });

  it.runIf(dialect === 'sqlite')('takes over a file from the SQLite release', async () => {
    if (place.target.dialect !== 'sqlite') return;
    fs.mkdirSync(path.dirname(place.target.file), { recursive: true });
    const old = new Database(place.target.file);
    old.exec('CREATE TABLE reported_findings (id TEXT PRIMARY KEY, first_reported_at INTEGER NOT NULL) STRICT');
    old.pragma('user_version = 1');
    old.prepare('INSERT INTO reported_findings (id, first_reported_at) VALUES (?, ?)').run('reported-before', 1);
    old.close();

    const ledger = await open();
    expect(await ledger.unreported(['reported-before', 'new'])).toEqual(['new']);
    expect(await ledger.announceOnce(['reported-before', 'new'], 2, quietly)).toEqual(['new']);
  });
});
