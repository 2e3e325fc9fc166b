import { describe, expect, it } from 'vitest';
import { BenchUsageError, parseBenchOptions } from './bench-options';

describe('parseBenchOptions', () => {
  it('defaults to 50 clients for 30 s after 5 s of warm-up, with the baseline', () => {
    expect(parseBenchOptions([])).toEqual({
      clients: [50],
      durationMs: 30_000,
      warmupMs: 5_000,
      rounds: 1,
      baseline: true,
      scale: null,
      expiryBatch: 1000,
      readModelRows: null,
      out: null,
    });
  });

  it('takes a list of client counts and a scale run', () => {
    const options = parseBenchOptions(['--clients', '1,10, 50', '--scale', '100000', '--no-baseline', '--warmup', '0', '--rounds', '3']);
    expect(options).toMatchObject({ clients: [1, 10, 50], scale: 100_000, baseline: false, warmupMs: 0, rounds: 3 });
    expect(parseBenchOptions(['--read-model', '100000'])).toMatchObject({ readModelRows: 100_000 });
  });

  it('refuses what it cannot mean', () => {
    expect(() => parseBenchOptions(['--clients', '0'])).toThrow(BenchUsageError);
    expect(() => parseBenchOptions(['--duration', '1.5'])).toThrow(/--duration/);
    expect(() => parseBenchOptions(['--rounds', '0'])).toThrow(/--rounds/);
    expect(() => parseBenchOptions(['--bogus'])).toThrow();
  });
});
