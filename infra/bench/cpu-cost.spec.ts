import { describe, expect, it } from 'vitest';
import { cpuMsPerUnit } from './cpu-cost';

describe('cpuMsPerUnit', () => {
  it('divides each process\'s ticks between the readings by the units completed, in ms, and adds up the ones asked', () => {
    // 100 ticks a second: 300 ticks = 3 s of CPU, over 100 transfers = 30 ms each.
    const cost = cpuMsPerUnit({ gateway: 1000, worker: 500, bench: 10 }, { gateway: 1300, worker: 1000, bench: 60 }, 100, ['gateway', 'worker']);
    expect(cost.perProcessMs).toEqual({ gateway: 30, worker: 50, bench: 5 });
    expect(cost.totalMs).toBe(80);
    expect(cost.totalOf).toEqual(['gateway', 'worker']);
    expect(cost.missingFromTotal).toEqual([]);
  });

  it('leaves out of the total what could not be read, and says so', () => {
    const cost = cpuMsPerUnit({ gateway: 1000, worker: 500, kafka: 900 }, { gateway: 1300, worker: null, kafka: 100 }, 100, ['gateway', 'worker', 'kafka']);
    // The worker vanished; kafka's count went backwards (a restart under the same pid).
    expect(cost.perProcessMs).toEqual({ gateway: 30, worker: null, kafka: null });
    expect(cost.totalMs).toBe(30);
    expect(cost.missingFromTotal).toEqual(['worker', 'kafka']);
  });

  it('gives nothing per unit when nothing completed', () => {
    const cost = cpuMsPerUnit({ gateway: 1000 }, { gateway: 1300 }, 0, ['gateway']);
    expect(cost).toMatchObject({ perProcessMs: { gateway: null }, totalMs: null, totalOf: [], missingFromTotal: [] });
  });
});
