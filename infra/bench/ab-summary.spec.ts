import { describe, expect, it } from 'vitest';
import { formatAbSummary, summarizeAb, type AbRun, type OpenLoopRunJson } from './ab-summary';

function step(total: number, perProcess: Record<string, number | null>, create: [number, number], accept: [number, number], keptUp = true) {
  return {
    ours: {
      verdict: { keptUp },
      cpu: { perProcessMs: perProcess, totalMs: total, totalOf: ['temporal', 'worker'] },
      latencyMs: { create: { p50: create[0], p99: create[1] }, accept: { p50: accept[0], p99: accept[1] } },
    },
  };
}

function run(side: 'a' | 'b', pair: number, ...steps: ReturnType<typeof step>[]): AbRun {
  const result: OpenLoopRunJson = { openLoop: { measured: steps } };
  return { side, pair, result };
}

describe('summarizeAb', () => {
  const runs = [
    run('a', 1, step(120, { worker: 50, temporal: 70 }, [100, 400], [120, 500]), step(110, { worker: 45, temporal: 65 }, [90, 300], [110, 450])),
    run('b', 1, step(100, { worker: 40, temporal: 60 }, [80, 200], [90, 300]), step(96, { worker: 38, temporal: 58 }, [70, 220], [85, 280])),
    run('b', 2, step(130, { worker: 60, temporal: 70 }, [120, 500], [130, 600])),
    run('a', 2, step(126, { worker: 56, temporal: 70 }, [110, 450], [125, 520])),
  ];

  it('averages CPU per transfer over every step of a side, by process and in total', () => {
    const { a, b } = summarizeAb(runs);
    expect(a.steps).toBe(3);
    expect(a.cpuMsPerTransfer.total).toBeCloseTo((120 + 110 + 126) / 3);
    expect(a.cpuMsPerTransfer.byProcess).toEqual({ temporal: (70 + 65 + 70) / 3, worker: (50 + 45 + 56) / 3 });
    expect(b.cpuMsPerTransfer.total).toBeCloseTo((100 + 96 + 130) / 3);
  });

  it("takes the median of the steps' latency percentiles", () => {
    const { a } = summarizeAb(runs);
    expect(a.latencyMs.create).toEqual({ p50: 100, p99: 400 });
    expect(a.latencyMs.accept).toEqual({ p50: 120, p99: 500 });
  });

  it('compares the sides pair by pair, so a pair run on a slower hour still counts as one pair', () => {
    const summary = summarizeAb(runs);
    expect(summary.pairs).toEqual([
      { pair: 1, a: 115, b: 98 },
      { pair: 2, a: 126, b: 130 },
    ]);
    expect(summary.bLowerInPairs).toBe(1);
    expect(summary.comparablePairs).toBe(2);
  });

  it('leaves a pair out of the count when one side has no run in it, and skips missing readings', () => {
    const summary = summarizeAb([run('a', 1, step(100, { worker: null, temporal: 60 }, [1, 2], [3, 4])), run('a', 2, step(90, { worker: 30 }, [1, 2], [3, 4], false))]);
    expect(summary.a.cpuMsPerTransfer.byProcess).toEqual({ temporal: 60, worker: 30 });
    expect(summary.a.allKeptUp).toBe(false);
    expect(summary.b.steps).toBe(0);
    expect(summary.b.cpuMsPerTransfer.total).toBeNull();
    expect(summary.comparablePairs).toBe(0);
  });

  it('marks a process metered beside the total, such as the load generator', () => {
    const text = formatAbSummary(summarizeAb([run('a', 1, step(100, { worker: 40, temporal: 60, bench: 6 }, [1, 2], [3, 4]))]), { a: 'x', b: 'y' });
    expect(text).toMatch(/ {2}bench \(beside the total\)\s+6\.0\s+-\s+-/);
  });

  it('prints both sides, their difference and every pair', () => {
    const text = formatAbSummary(summarizeAb(runs), { a: 'abc123', b: '.' });
    expect(text).toMatch(/CPU ms per transfer, total\s+118\.7\s+108\.7\s+-10\.0/);
    expect(text).toMatch(/ {2}worker\s+50\.3\s+46\.0\s+-4\.3/);
    expect(text).not.toContain('worker (beside the total)');
    expect(text).toContain('total per pair (A/B): 115.0/98.0, 126.0/130.0; B lower in 1 of 2');
  });
});
