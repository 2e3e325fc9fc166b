import { describe, expect, it } from 'vitest';
import { renderTable, type ConcurrencyRun } from './report';
import { summarise } from './stats';

function run(clients: number, perSecond: number, baselinePerSecond: number | null): ConcurrencyRun {
  const ms = summarise([10, 20, 30, 40]);
  return {
    clients,
    ours: {
      clients,
      measuredMs: 10_000,
      completeTransfers: perSecond * 10,
      transfersPerSecond: perSecond,
      latencyMs: { create: ms, show: ms, list: ms, accept: ms },
      eventLagMs: summarise([5, 7]),
      eventsMissing: 0,
      errors: clients === 1 ? {} : { 'accept 503 EVS.5503': 2 },
      disksMadeDuringRun: 0,
      sampleTransferId: null,
    },
    baseline:
      baselinePerSecond === null
        ? null
        : {
            clients,
            shape: { activities: 4, localActivities: 0 },
            measuredMs: 10_000,
            completeWorkflows: baselinePerSecond * 10,
            workflowsPerSecond: baselinePerSecond,
            cycleMs: ms,
            errors: {},
          },
    ratio: baselinePerSecond === null ? null : perSecond / baselinePerSecond,
    memory: { gateway: { pid: 1, peakRssMiB: 123.4, lastRssMiB: 100 } },
    transferShape: clients === 1 ? { activities: 4, localActivities: 0, historyEvents: 40, workflowTasks: 6 } : null,
  };
}

describe('renderTable', () => {
  const table = renderTable([run(1, 8, 10), run(50, 40, null)]);
  const line = (label: string) => table.split('\n').find((l) => l.startsWith(label)) ?? '';

  it('has a column per number of clients', () => {
    expect(table.split('\n')[0]).toMatch(/1 client\s+50 clients$/);
  });

  it('shows the ratio as a percentage, and a dash where nothing was measured', () => {
    expect(line('ours / baseline')).toMatch(/80 %\s+-$/);
    expect(line('peak RSS MiB worker')).toMatch(/-\s+-$/);
    expect(line('peak RSS MiB gateway')).toMatch(/123\.4\s+123\.4$/);
  });

  it("shows what one transfer cost Temporal where it was read", () => {
    expect(line('transfer history')).toMatch(/40 \/ 6 \/ 4 \(0\)\s+-$/);
  });

  it('gives latency as p50 / p95 / p99 / max and names every unexpected answer', () => {
    expect(line('create ms')).toContain('20 / 40 / 40 / 40');
    expect(line('errors')).toMatch(/none\s+accept 503 EVS\.5503: 2$/);
  });
});
