import { describe, expect, it } from 'vitest';
import { percentile, ratePerSecond, round, summarise } from './stats';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('gives a value some sample really had', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([3, 7, 20], 50)).toBe(7);
  });

  it('lets one slow request out of ten decide p95 and p99', () => {
    const samples = [1, 1, 1, 1, 1, 1, 1, 1, 1, 500];
    expect(percentile(samples, 50)).toBe(1);
    expect(percentile(samples, 95)).toBe(500);
  });

  it('is NaN when nothing was measured and refuses a meaningless rank', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(hundred, 0)).toThrow(RangeError);
    expect(() => percentile(hundred, 101)).toThrow(RangeError);
  });
});

describe('summarise', () => {
  it('sorts the samples itself and reports count and max', () => {
    expect(summarise([30, 10, 20])).toEqual({ count: 3, p50: 20, p95: 30, p99: 30, max: 30 });
  });
});

describe('ratePerSecond and round', () => {
  it('divides by the window in seconds and never by zero', () => {
    expect(ratePerSecond(150, 30_000)).toBe(5);
    expect(ratePerSecond(3, 0)).toBe(0);
  });

  it('rounds to the digits asked and keeps NaN', () => {
    expect(round(12.345, 1)).toBe(12.3);
    expect(round(Number.NaN)).toBeNaN();
  });
});
