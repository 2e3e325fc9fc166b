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
      openLoop: null,
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

describe('parseBenchOptions --open-loop', () => {
  it('by default searches for the saturation rate with Poisson arrivals, a minute per step', () => {
    expect(parseBenchOptions(['--open-loop'])).toMatchObject({
      warmupMs: 5_000,
      rounds: 1,
      baseline: true,
      openLoop: { arrivals: 'poisson', rates: null, stepDurationMs: 60_000, startRate: 4, maxInFlight: 1000, seed: 1, freshStacks: false },
    });
    expect(parseBenchOptions(['--open-loop', '--rounds', '3', '--fresh-stacks'])).toMatchObject({ openLoop: { freshStacks: true } });
    expect(parseBenchOptions(['--open-loop', '--find-saturation', '--rounds', '3'])).toMatchObject({ rounds: 3, openLoop: { rates: null } });
  });

  it('takes fixed rates, fractions included, and every setting of the search', () => {
    const options = parseBenchOptions([
      '--open-loop',
      '--rate',
      '2, 7.5',
      '--arrivals',
      'constant',
      '--step-duration',
      '15',
      '--max-in-flight',
      '50',
      '--seed',
      '0',
      '--no-baseline',
    ]);
    expect(options).toMatchObject({
      baseline: false,
      openLoop: { arrivals: 'constant', rates: [2, 7.5], stepDurationMs: 15_000, maxInFlight: 50, seed: 0 },
    });
    expect(parseBenchOptions(['--open-loop', '--start-rate', '0.5'])).toMatchObject({ openLoop: { startRate: 0.5 } });
  });

  it('refuses a closed-loop option with it, an open-loop option without it, and settings it cannot mean', () => {
    expect(() => parseBenchOptions(['--open-loop', '--clients', '10'])).toThrow('--clients does not apply to --open-loop');
    expect(() => parseBenchOptions(['--open-loop', '--duration', '10'])).toThrow(/--duration/);
    expect(() => parseBenchOptions(['--rate', '2'])).toThrow('--rate applies only to --open-loop');
    expect(() => parseBenchOptions(['--step-duration', '10'])).toThrow(/only to --open-loop/);
    expect(() => parseBenchOptions(['--open-loop', '--rate', '2', '--find-saturation'])).toThrow(/choose one/);
    expect(() => parseBenchOptions(['--open-loop', '--rate', '2', '--rounds', '2'])).toThrow(/--rounds/);
    expect(() => parseBenchOptions(['--open-loop', '--rate', '2', '--fresh-stacks'])).toThrow(/no search/);
    expect(() => parseBenchOptions(['--fresh-stacks'])).toThrow('--fresh-stacks applies only to --open-loop');
    expect(() => parseBenchOptions(['--open-loop', '--arrivals', 'bursty'])).toThrow(/poisson or constant/);
    expect(() => parseBenchOptions(['--open-loop', '--rate', '0'])).toThrow(/--rate must be a positive number/);
    expect(() => parseBenchOptions(['--open-loop', '--rate', '2,'])).toThrow(/--rate/);
    expect(() => parseBenchOptions(['--open-loop', '--seed', '-1'])).toThrow(/--seed/);
    expect(() => parseBenchOptions(['--open-loop', '--step-duration', '0'])).toThrow(/--step-duration/);
  });
});
