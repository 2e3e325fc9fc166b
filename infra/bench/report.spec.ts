import { describe, expect, it } from 'vitest';
import type { BaselineLoadResult } from './baseline-load';
import { renderRounds, renderTable, summariseRounds, type ConcurrencyRun } from './report';
import { summarise } from './stats';

function baseline(clients: number, perSecond: number, activities: number, localActivities: number): BaselineLoadResult {
  return {
    clients,
    shape: { activities, localActivities },
    measuredMs: 10_000,
    completeWorkflows: perSecond * 10,
    finishedWorkflows: perSecond * 12,
    workflowsPerSecond: perSecond,
    cycleMs: summarise([100, 200]),
    errors: {},
  };
}

function run(clients: number, perSecond: number, baselinePerSecond: number | null, round = 1): ConcurrencyRun {
  const ms = summarise([10, 20, 30, 40]);
  return {
    clients,
    round,
    ours: {
      clients,
      measuredMs: 10_000,
      completeTransfers: perSecond * 10,
      acceptedTransfers: 100,
      transfersPerSecond: perSecond,
      latencyMs: { create: ms, show: ms, list: ms, accept: ms },
      eventLagMs: summarise([5, 7]),
      eventsMissing: 0,
      errors: clients === 1 ? {} : { 'accept 503 EVS.5503': 2 },
      disksMadeDuringRun: 0,
      sampleTransferId: null,
    },
    baselines:
      baselinePerSecond === null
        ? { regular: null, sameShape: null }
        : {
            regular: { load: baseline(clients, baselinePerSecond, 6, 0), ratio: perSecond / baselinePerSecond, memory: {} },
            sameShape: { load: baseline(clients, baselinePerSecond * 2, 2, 4), ratio: perSecond / (baselinePerSecond * 2), memory: {} },
          },
    memory: { gateway: { pid: 1, processes: 1, peakRssMiB: 123.4, lastRssMiB: 100, cpuSeconds: 1.5 } },
    transferShape: clients === 1 ? { activities: 2, localActivities: 4, historyEvents: 34, workflowTasks: 4 } : null,
  };
}

describe('renderTable', () => {
  const table = renderTable([run(1, 8, 10), run(50, 40, null)]);
  const line = (label: string) => table.split('\n').find((l) => l.startsWith(label)) ?? '';

  it('has a column per number of clients', () => {
    expect(table.split('\n')[0]).toMatch(/1 client\s+50 clients$/);
  });

  it('gives each baseline its shape and our rate as a percentage of its, and a dash where nothing was measured', () => {
    expect(line('baseline: shape')).toMatch(/6 \+ 0\s+-$/);
    expect(line('baseline: ours / baseline')).toMatch(/80 %\s+-$/);
    expect(line('same-shape baseline: shape')).toMatch(/2 \+ 4\s+-$/);
    expect(line('same-shape baseline: ours / baseline')).toMatch(/40 %\s+-$/);
    expect(line('peak RSS MiB worker')).toMatch(/-\s+-$/);
    expect(line('peak RSS MiB gateway')).toMatch(/123\.4\s+123\.4$/);
  });

  it('divides CPU time by the transfers accepted in the phase', () => {
    expect(line('CPU ms per transfer: gateway/worker/inventory')).toMatch(/15 \/ - \/ -/);
  });

  it('shows what one transfer cost Temporal where it was read', () => {
    expect(line('transfer history')).toMatch(/34 \/ 4 \/ 2 \+ 4\s+-$/);
  });

  it('gives latency as p50 / p95 / p99 / max and names every unexpected answer', () => {
    expect(line('create ms')).toContain('20 / 40 / 40 / 40');
    expect(line('errors')).toMatch(/none\s+accept 503 EVS\.5503: 2$/);
  });
});

describe('rounds', () => {
  const runs = [run(10, 8, 10, 1), run(10, 9, 10, 2), run(10, 6, 10, 3), run(50, 12, 15)];

  it('labels each round of a number of clients measured more than once', () => {
    expect(renderTable(runs).split('\n')[0]).toMatch(/10 clients #1\s+10 clients #2\s+10 clients #3\s+50 clients #1$/);
  });

  it('summarises only the numbers of clients measured more than once, each round in order', () => {
    const [summary, ...others] = summariseRounds(runs);
    expect(others).toEqual([]);
    expect(summary).toMatchObject({ clients: 10, transfersPerSecond: [8, 9, 6] });
    expect(summary?.baselines.regular?.ratios).toEqual([0.8, 0.9, 0.6]);
    expect(summary?.baselines.sameShape?.workflowsPerSecond).toEqual([20, 20, 20]);
    expect(summariseRounds([run(1, 8, 10), run(50, 12, 15)])).toEqual([]);
  });

  it('gives the median and the range of the ratios, and a dash for a baseline never measured', () => {
    const table = renderRounds(summariseRounds([...runs, run(50, 12, null, 2)]));
    const line = (label: string) => table.split('\n').find((l) => l.startsWith(label)) ?? '';
    expect(line('baseline: ours / baseline, median')).toMatch(/80 % \(60-90\)\s+80 % \(80-80\)$/);
    expect(line('baseline: ours / baseline %, each round')).toMatch(/80 \/ 90 \/ 60\s+80$/);
    expect(line('complete transfers/s, each round')).toMatch(/8 \/ 9 \/ 6\s+12 \/ 12$/);
  });

  it('takes the mean of the middle two for an even number of rounds', () => {
    const table = renderRounds(summariseRounds([run(10, 8, 10, 1), run(10, 7, 10, 2)]));
    expect(table).toMatch(/ours \/ baseline, median \(range\)\s+75 % \(70-80\)/);
  });
});
