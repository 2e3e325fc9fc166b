import { describe, expect, it } from 'vitest';
import type { BaselineLoadResult } from './baseline-load';
import { renderTable, type ConcurrencyRun } from './report';
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

function run(clients: number, perSecond: number, baselinePerSecond: number | null): ConcurrencyRun {
  const ms = summarise([10, 20, 30, 40]);
  return {
    clients,
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
    memory: { gateway: { pid: 1, peakRssMiB: 123.4, lastRssMiB: 100, cpuSeconds: 1.5 } },
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
