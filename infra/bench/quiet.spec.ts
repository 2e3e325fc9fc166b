import { describe, expect, it } from 'vitest';
import { coresUsed, waitForQuiet } from './quiet';

/** A clock that only moves when slept on, and a stack whose CPU use per interval is scripted. */
function scripted(coresPerInterval: number[]) {
  let now = 0;
  let ticks = 0;
  let interval = 0;
  return {
    clock: {
      now: () => now,
      async sleep(ms: number) {
        const cores = coresPerInterval[Math.min(interval, coresPerInterval.length - 1)];
        interval += 1;
        now += ms;
        ticks += (cores * 100 * ms) / 1000;
      },
    },
    cpuTicks: () => ({ worker: ticks / 2, temporal: ticks / 2, absent: null }),
  };
}

describe('coresUsed', () => {
  it('adds the processes’ ticks and divides by the elapsed time', () => {
    expect(coresUsed({ a: 100, b: 50 }, { a: 250, b: 100 }, 1000)).toBe(2);
    expect(coresUsed({ a: 0 }, { a: 30 }, 3000)).toBeCloseTo(0.1);
  });

  it('leaves out a process missing from either reading, and never counts a negative', () => {
    expect(coresUsed({ a: 0, b: null, c: 500 }, { a: 100, b: 100, c: 10 }, 1000)).toBe(1);
  });
});

describe('waitForQuiet', () => {
  it('returns after the first interval under the limit', async () => {
    const stack = scripted([1.8, 1.2, 0.6, 0.1, 0.1]);
    const outcome = await waitForQuiet(stack.cpuTicks, { maxCores: 0.25, intervalMs: 3000, limitMs: 60_000 }, stack.clock);
    expect(outcome.quiet).toBe(true);
    expect(outcome.waitedMs).toBe(12_000);
    expect(outcome.cores).toBeCloseTo(0.1);
  });

  it('gives up at the limit and says the stack was still busy', async () => {
    const stack = scripted([1.5]);
    const outcome = await waitForQuiet(stack.cpuTicks, { maxCores: 0.25, intervalMs: 3000, limitMs: 9000 }, stack.clock);
    expect(outcome).toEqual({ quiet: false, waitedMs: 9000, cores: 1.5 });
  });
});
