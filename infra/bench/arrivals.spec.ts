import { describe, expect, it } from 'vitest';
import { arrivalSchedule, seededUniform } from './arrivals';

const gapsOf = (arrivals: number[]) => arrivals.slice(1).map((at, i) => at - arrivals[i]);
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe('seededUniform', () => {
  it('gives numbers strictly between 0 and 1, spread evenly, the same ones for the same seed', () => {
    const draw = seededUniform(42);
    const values = Array.from({ length: 100_000 }, draw);
    expect(Math.min(...values)).toBeGreaterThan(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(mean(values)).toBeCloseTo(0.5, 2);
    expect(values.filter((v) => v < 0.1).length / values.length).toBeCloseTo(0.1, 2);
    const again = seededUniform(42);
    expect(Array.from({ length: 5 }, again)).toEqual(values.slice(0, 5));
  });

  it('starts neighbouring seeds, and seed 0, on different sequences', () => {
    const first = (seed: number) => seededUniform(seed)();
    expect(new Set([0, 1, 2, 3].map(first)).size).toBe(4);
  });
});

describe('arrivalSchedule', () => {
  it('spaces constant arrivals evenly from the start of the step', () => {
    const arrivals = arrivalSchedule({ process: 'constant', ratePerSecond: 4, durationMs: 10_000, seed: 1 });
    expect(arrivals).toHaveLength(40);
    expect(arrivals[0]).toBe(0);
    expect(new Set(gapsOf(arrivals).map((g) => Math.round(g * 1000) / 1000))).toEqual(new Set([250]));
    expect(arrivals.at(-1)).toBeLessThan(10_000);
  });

  it('makes Poisson arrivals at the asked mean rate, with exponential gaps', () => {
    const arrivals = arrivalSchedule({ process: 'poisson', ratePerSecond: 10, durationMs: 1_000_000, seed: 7 });
    // 10,000 expected; a Poisson count's standard deviation is 100.
    expect(arrivals.length).toBeGreaterThan(9_700);
    expect(arrivals.length).toBeLessThan(10_300);
    const gaps = gapsOf(arrivals);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(0);
    const m = mean(gaps);
    expect(m).toBeGreaterThan(97);
    expect(m).toBeLessThan(103);
    // An exponential gap exceeds its mean with probability e^-1 and is as variable as it is long.
    expect(gaps.filter((g) => g > 100).length / gaps.length).toBeCloseTo(Math.exp(-1), 1);
    const sd = Math.sqrt(mean(gaps.map((g) => (g - m) ** 2)));
    expect(sd / m).toBeGreaterThan(0.9);
    expect(sd / m).toBeLessThan(1.1);
  });

  it('puts as many arrivals in a second on average as their variance (a Poisson count)', () => {
    const arrivals = arrivalSchedule({ process: 'poisson', ratePerSecond: 10, durationMs: 1_000_000, seed: 3 });
    const perSecond = new Array<number>(1000).fill(0);
    for (const at of arrivals) perSecond[Math.floor(at / 1000)]++;
    const m = mean(perSecond);
    const variance = mean(perSecond.map((n) => (n - m) ** 2));
    expect(variance / m).toBeGreaterThan(0.8);
    expect(variance / m).toBeLessThan(1.2);
  });

  it('reproduces a run from its seed and differs with another', () => {
    const spec = { process: 'poisson', ratePerSecond: 5, durationMs: 60_000, seed: 11 } as const;
    expect(arrivalSchedule(spec)).toEqual(arrivalSchedule(spec));
    expect(arrivalSchedule({ ...spec, seed: 12 })).not.toEqual(arrivalSchedule(spec));
    expect(arrivalSchedule(spec).every((at, i, all) => at >= 0 && at < 60_000 && (i === 0 || at >= all[i - 1]))).toBe(true);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => arrivalSchedule({ process: 'constant', ratePerSecond: 0, durationMs: 1000, seed: 1 })).toThrow(RangeError);
    expect(() => arrivalSchedule({ process: 'poisson', ratePerSecond: Number.NaN, durationMs: 1000, seed: 1 })).toThrow(RangeError);
  });
});
