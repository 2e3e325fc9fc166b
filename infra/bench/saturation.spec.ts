import { describe, expect, it } from 'vitest';
import { nextSearchRate, saturationRate, SEARCH_DEFAULTS, type SearchStep, searchBounds } from './saturation';

const settings = { ...SEARCH_DEFAULTS, startRate: 4 };

/** Runs the search against a stack that keeps up with anything up to `capacity`. */
function search(capacity: number, overrides: Partial<typeof settings> = {}): SearchStep[] {
  const history: SearchStep[] = [];
  for (let rate = nextSearchRate(history, { ...settings, ...overrides }); rate !== null; rate = nextSearchRate(history, { ...settings, ...overrides })) {
    history.push({ rate, keptUp: rate <= capacity });
  }
  return history;
}

describe('nextSearchRate', () => {
  it('doubles until a rate is too much, then bisects to within 10 %', () => {
    const history = search(13.2);
    expect(history.map((s) => s.rate)).toEqual([4, 8, 16, 12, 14, 13]);
    expect(saturationRate(history)).toBe(13);
    const { keptUp, failed } = searchBounds(history);
    expect(((failed ?? 0) - (keptUp ?? 0)) / (keptUp ?? 1)).toBeLessThanOrEqual(0.1);
  });

  it('halves from a start rate that is already too much', () => {
    const history = search(1.1);
    expect(history.map((s) => s.rate)).toEqual([4, 2, 1, 1.5, 1.25, 1.13, 1.07]);
    expect(saturationRate(history)).toBe(1.07);
  });

  it('stops with no saturation rate when even the slowest rate is too much', () => {
    const history = search(0.1);
    expect(history.map((s) => s.rate)).toEqual([4, 2, 1, 0.5, 0.25]);
    expect(saturationRate(history)).toBeNull();
  });

  it('stops at the step limit and at the highest rate it may try', () => {
    expect(search(1000, { maxSteps: 3 }).map((s) => s.rate)).toEqual([4, 8, 16]);
    expect(search(1e9, { maxRate: 40 }).map((s) => s.rate)).toEqual([4, 8, 16, 32]);
  });

  it('ignores a kept-up rate above a failed one (noise near the edge)', () => {
    const history: SearchStep[] = [
      { rate: 8, keptUp: true },
      { rate: 16, keptUp: false },
      { rate: 12, keptUp: false },
      { rate: 14, keptUp: true },
    ];
    expect(searchBounds(history)).toEqual({ keptUp: 8, failed: 12 });
    expect(nextSearchRate(history, settings)).toBe(10);
    expect(saturationRate(history)).toBe(8);
  });

  it('never proposes a rate already tried', () => {
    const history: SearchStep[] = [
      { rate: 0.5, keptUp: true },
      { rate: 0.52, keptUp: false },
    ];
    expect(nextSearchRate(history, { ...settings, precision: 0.01 })).toBe(0.51);
    expect(nextSearchRate([...history, { rate: 0.51, keptUp: true }], { ...settings, precision: 0.001 })).toBeNull();
  });
});
