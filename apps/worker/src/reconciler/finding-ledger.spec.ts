import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FindingLedger } from './finding-ledger';

describe('FindingLedger (real SQLite file)', () => {
  let dir: string;
  let file: string;
  let ledger: FindingLedger;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'finding-ledger-'));
    file = path.join(dir, 'nested', 'reconciler.sqlite');
    ledger = FindingLedger.open(file);
  });

  afterEach(() => {
    ledger.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers which ids were never reported, in the order asked', () => {
    expect(ledger.unreported([])).toEqual([]);
    expect(ledger.unreported(['b', 'a', 'c'])).toEqual(['b', 'a', 'c']);
    ledger.markReported(['a'], 1);
    expect(ledger.unreported(['b', 'a', 'c'])).toEqual(['b', 'c']);
  });

  it('marks idempotently and remembers across a reopen, as a second process on the file would see it', () => {
    ledger.markReported(['reconciler/t/d/orphaned_lock'], 1);
    ledger.markReported(['reconciler/t/d/orphaned_lock', 'x'], 2);
    const other = FindingLedger.open(file);
    try {
      expect(other.unreported(['reconciler/t/d/orphaned_lock', 'x', 'y'])).toEqual(['y']);
    } finally {
      other.close();
    }
  });

  it('takes ids with quotes and other JSON-significant characters literally', () => {
    const odd = ['a"b', "c'd", 'e\\f', '[1]'];
    ledger.markReported(odd.slice(0, 2), 1);
    expect(ledger.unreported(odd)).toEqual(odd.slice(2));
  });
});
