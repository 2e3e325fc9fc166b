import { describe, expect, it } from 'vitest';
import { judgeStep, type StepObservation, slope } from './keeps-up';

/** A minute at 10 journeys a second whose backlog is `level(second)` and whose journeys take `ms` each. */
function step(level: (second: number) => number, overrides: Partial<StepObservation> = {}): StepObservation {
  return {
    windowMs: 60_000,
    arrived: 600,
    failed: 0,
    unfinished: 0,
    capWaits: 0,
    backlog: Array.from({ length: 60 }, (_, s) => ({ atMs: s * 1000, inFlight: level(s) })),
    journeyMsFirstHalf: Array.from({ length: 300 }, (_, i) => 200 + (i % 50)),
    journeyMsSecondHalf: Array.from({ length: 300 }, (_, i) => 200 + (i % 60)),
    ...overrides,
  };
}

describe('slope', () => {
  it('is the least-squares slope, and 0 where there is no trend to fit', () => {
    expect(slope([0, 1, 2, 3].map((x) => ({ x, y: 2 * x + 1 })))).toBeCloseTo(2, 10);
    expect(slope([{ x: 0, y: 5 }])).toBe(0);
    expect(slope([{ x: 1, y: 5 }, { x: 1, y: 9 }])).toBe(0);
  });
});

describe('judgeStep', () => {
  it('says a steady backlog, noisy as it may be, kept up', () => {
    // Around 3 in flight, with bursts to 9 (Poisson arrivals).
    const verdict = judgeStep(step((s) => 3 + ((s * 7) % 5) - 2 + (s % 13 === 0 ? 6 : 0)));
    expect(verdict).toMatchObject({ keptUp: true, reasons: [] });
    expect(Math.abs(verdict.backlogGrowth)).toBeLessThan(5);
  });

  it('says a backlog growing by one journey a second did not, and why', () => {
    const verdict = judgeStep(step((s) => 3 + s));
    expect(verdict.keptUp).toBe(false);
    expect(verdict.backlogGrowth).toBeCloseTo(60, 5);
    expect(verdict.reasons).toEqual(['the backlog grew by 60 journeys over the window (allowed 30)']);
  });

  it('allows growth of 5 % of the arrivals, and at least 5 journeys', () => {
    // 20 more over the minute: 3.3 % of 600 arrivals.
    expect(judgeStep(step((s) => (s * 20) / 60)).keptUp).toBe(true);
    // 8 more, of 60 arrivals: over both 5 and 5 %.
    expect(judgeStep(step((s) => (s * 8) / 60, { arrived: 60 })).keptUp).toBe(false);
    expect(judgeStep(step((s) => (s * 4) / 60, { arrived: 60 })).keptUp).toBe(true);
  });

  it('says latency that more than doubled, by more than 250 ms, diverged', () => {
    const slower = Array.from({ length: 300 }, (_, i) => 600 + i);
    expect(judgeStep(step(() => 3, { journeyMsSecondHalf: slower })).reasons).toEqual([
      'p99 journey time diverged: 249 ms in the first half, 896 ms in the second',
    ]);
    // Doubled, but from 20 ms to 45 ms: noise, not divergence.
    const fast = Array.from({ length: 300 }, () => 20);
    expect(judgeStep(step(() => 3, { journeyMsFirstHalf: fast, journeyMsSecondHalf: fast.map((v) => v + 25) })).keptUp).toBe(true);
  });

  it('does not judge latency on too few journeys, where a p99 is the slowest one', () => {
    // 20 journeys a half: one of 836 ms against one of 418 ms is not a trend.
    const first = [...Array.from({ length: 19 }, () => 300), 418];
    const second = [...Array.from({ length: 19 }, () => 300), 836];
    expect(judgeStep(step(() => 1, { arrived: 40, journeyMsFirstHalf: first, journeyMsSecondHalf: second })).keptUp).toBe(true);
    const many = (last: number) => [...Array.from({ length: 49 }, () => 300), last];
    expect(judgeStep(step(() => 1, { arrived: 100, journeyMsFirstHalf: many(418), journeyMsSecondHalf: many(900) })).keptUp).toBe(false);
  });

  it('does not call a step kept up when journeys failed, hung, met the cap or never came', () => {
    expect(judgeStep(step(() => 3, { failed: 6 })).keptUp).toBe(true);
    expect(judgeStep(step(() => 3, { failed: 7 })).reasons).toEqual(['7 of 600 journeys failed']);
    expect(judgeStep(step(() => 3, { unfinished: 1 })).reasons).toEqual(['1 journeys had not ended when the driver stopped waiting']);
    expect(judgeStep(step(() => 3, { capWaits: 2 })).reasons).toEqual(['2 journeys met the in-flight cap']);
    expect(judgeStep(step(() => 0, { arrived: 0, journeyMsFirstHalf: [], journeyMsSecondHalf: [] })).reasons).toEqual([
      'nothing arrived in the window',
    ]);
  });
});
