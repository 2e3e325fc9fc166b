import { describe, expect, it } from 'vitest';
import { cpuMsPerUnit } from './cpu-cost';
import { judgeStep } from './keeps-up';
import {
  headlineRate,
  type MeasuredRate,
  type OpenLoopRun,
  type OpenLoopStep,
  openLoopHeadline,
  renderHeadline,
  renderMeasured,
  renderSearch,
} from './open-loop-report';
import { summarise } from './stats';

function step(system: 'ours' | 'baseline', rate: number, keptUp: boolean, cpuTicks: Record<string, number>, p99: number): OpenLoopStep {
  const names = Object.keys(cpuTicks);
  const before = Object.fromEntries(names.map((n) => [n, 0]));
  const inTotal = names.filter((n) => n !== 'bench');
  const ms = summarise([p99 / 4, p99 / 2, p99]);
  return {
    system,
    ratePerSecond: rate,
    arrivals: 'poisson',
    seed: 1,
    warmupMs: 5000,
    windowMs: 60_000,
    idleBefore: { quiet: true, waitedMs: 3000, cores: 0.1 },
    arrived: rate * 60,
    complete: rate * 60,
    completePerSecond: rate,
    failed: 0,
    unfinished: 0,
    capWaits: 0,
    maxInFlight: 3,
    backlog: [1, 2, 3],
    maxSendLagMs: 1.5,
    latencyMs: system === 'ours' ? { create: ms, show: ms, list: ms, accept: summarise([p99 * 2]) } : { start: ms, update: ms },
    journeyMs: ms,
    verdict: keptUp ? judgeStep({ windowMs: 60_000, arrived: 1, failed: 0, unfinished: 0, capWaits: 0, backlog: [], journeyMsFirstHalf: [], journeyMsSecondHalf: [] }) : { keptUp: false, reasons: ['the backlog grew by 90 journeys over the window (allowed 30)'], backlogGrowth: 90, p99FirstHalfMs: 1, p99SecondHalfMs: 2 },
    cpu: cpuMsPerUnit(before, cpuTicks, rate * 60, inTotal),
    memory: {},
    errors: {},
    eventLagMs: system === 'ours' ? summarise([2, 4]) : null,
    eventsMissing: system === 'ours' ? 0 : null,
  };
}

/** A rate measured: ours costs 2 ticks (20 ms) of gateway and 5 of Temporal per transfer, the baseline 3 of its worker and 4 of Temporal. */
function measured(share: number | null, rate: number, withBaseline = true, keptUp = true): MeasuredRate {
  const units = rate * 60;
  return {
    share,
    ratePerSecond: rate,
    ours: step('ours', rate, keptUp, { gateway: units * 2, temporal: units * 5, bench: units }, 100 * rate),
    baseline: withBaseline ? step('baseline', rate, true, { worker: units * 3, temporal: units * 4, bench: units }, 10) : null,
  };
}

function run(overrides: Partial<OpenLoopRun>): OpenLoopRun {
  return {
    searches: [],
    ratios: [],
    saturationRatePerSecond: null,
    measured: [],
    transferShape: null,
    baselineShape: null,
    processes: { ours: ['gateway', 'temporal'], baseline: ['worker', 'temporal'] },
    ...overrides,
  };
}

describe('openLoopHeadline', () => {
  const searched = run({
    ratios: [0.7, 0.9, 0.75],
    saturationRatePerSecond: 12,
    measured: [measured(0.25, 3), measured(0.5, 6), measured(0.7, 8.4), measured(0.75, 9)],
  });

  it('gives the fields tools read: CPU total and p99 at 70 % of saturation, the rate and the median ratio', () => {
    const h = openLoopHeadline(searched);
    // 2 + 5 ticks per transfer = 70 ms; the bench's own is not in it.
    expect(h.cpu_ms_per_transfer_total).toBeCloseTo(70, 10);
    expect(h.baseline_cpu_ms_per_workflow_total).toBeCloseTo(70, 10);
    expect(h.cpu_processes).toEqual(['gateway', 'temporal']);
    expect(h.headline_rate_per_s).toBe(8.4);
    expect(h.saturation_rate_per_s).toBe(12);
    expect(h.ratio_median).toBe(0.75);
    expect(h.p99_ms_at_70pct).toEqual({ create: 840, accept: 1680 });
  });

  it('leaves the ratio and the 70 % figures null where nothing was searched or the baseline was skipped', () => {
    const fixed = run({ measured: [measured(null, 2, false), measured(null, 4, false, false)] });
    const h = openLoopHeadline(fixed);
    expect(h).toMatchObject({ ratio_median: null, saturation_rate_per_s: null, p99_ms_at_70pct: null, baseline_cpu_ms_per_workflow_total: null });
    // With fixed rates, CPU is read at the highest rate that kept up.
    expect(h.headline_rate_per_s).toBe(2);
    expect(h.cpu_ms_per_transfer_total).toBeCloseTo(70, 10);
    expect(headlineRate(run({ measured: [measured(null, 2, false, false), measured(null, 4, false, false)] }))?.ratePerSecond).toBe(4);
    expect(openLoopHeadline(run({}))).toMatchObject({ cpu_ms_per_transfer_total: null, headline_rate_per_s: null, cpu_processes: [] });
  });

  it('writes as JSON with every headline field present, null included', () => {
    const parsed = JSON.parse(JSON.stringify(openLoopHeadline(run({}))));
    expect(Object.keys(parsed)).toEqual(
      expect.arrayContaining(['cpu_ms_per_transfer_total', 'ratio_median', 'saturation_rate_per_s', 'p99_ms_at_70pct']),
    );
  });
});

describe('rendering', () => {
  it('prints a column per measured rate with each process on a row, and the baseline below', () => {
    const table = renderMeasured(run({ measured: [measured(0.25, 3), measured(0.7, 8.4)] }));
    const line = (label: string) => table.split('\n').find((l) => l.startsWith(label)) ?? '';
    expect(table.split('\n')[0]).toMatch(/25 % of saturation\s+70 % of saturation$/);
    expect(line('CPU ms per transfer: gateway')).toMatch(/20\s+20$/);
    expect(line('CPU ms per transfer: total')).toMatch(/70\s+70$/);
    expect(line('CPU ms per transfer: bench (not in total)')).toMatch(/10\s+10$/);
    expect(line('baseline: CPU ms per workflow: worker')).toMatch(/30\s+30$/);
    expect(line('accept ms p50/p95/p99/max')).toContain('600 / 600 / 600 / 600');
    expect(line('journeys arrived / failed / unfinished')).toMatch(/180 \/ 0 \/ 0\s+504 \/ 0 \/ 0$/);
  });

  it('prints each search step with why a rate was too much, and the headline', () => {
    const text = renderSearch({ system: 'ours', round: 1, steps: [step('ours', 8, true, {}, 100), step('ours', 16, false, {}, 100)], saturationRatePerSecond: 8 });
    expect(text.split('\n')[0]).toBe('saturation search, our service, round 1: 8/s');
    expect(text).toMatch(/16\/s.*kept up: no: the backlog grew by 90 journeys/);
    const h = renderHeadline(openLoopHeadline(run({ ratios: [0.8], saturationRatePerSecond: 12, measured: [measured(0.7, 8.4)] })));
    expect(h).toContain('ours / baseline (saturation rates, median of rounds): 80 %');
    expect(h).toContain('p99 at 70 % of saturation: create 840 ms, accept 1680 ms');
  });
});
