import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ProcessSampler, statCpuTicks, statusFieldKiB } from './process-sampler';

const STATUS = ['Name:\tnode', 'VmHWM:\t  204800 kB', 'VmRSS:\t  102400 kB', 'Threads:\t11'].join('\n');

describe('statusFieldKiB', () => {
  it('reads the kB figure of the field asked, not of its neighbours', () => {
    expect(statusFieldKiB(STATUS, 'VmRSS')).toBe(102400);
    expect(statusFieldKiB(STATUS, 'VmHWM')).toBe(204800);
    expect(statusFieldKiB(STATUS, 'VmSwap')).toBeNull();
  });
});

describe('statCpuTicks', () => {
  it('adds utime and stime, even when the command name holds spaces and parentheses', () => {
    const stat = '4242 (node (bench) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 1000 0 0';
    expect(statCpuTicks(stat)).toBe(300);
  });
});

describe('ProcessSampler', () => {
  it('reports this very process from /proc and nothing for a process it cannot see', () => {
    const report = new ProcessSampler({ self: process.pid, gone: null }).start(10).stop();
    expect(report.self?.peakRssMiB).toBeGreaterThan(10);
    expect(report.self?.peakRssMiB).toBeGreaterThanOrEqual(report.self?.lastRssMiB ?? Infinity);
    expect(report.self?.cpuSeconds).toBeGreaterThanOrEqual(0);
    expect(report.gone).toEqual({ pid: null, processes: 0, peakRssMiB: null, lastRssMiB: null, cpuSeconds: null });
  });

  it('counts, for a process tree, what a child spent even after it ended', () => {
    const sampler = new ProcessSampler({ alone: process.pid, tree: { pid: process.pid, tree: true } });
    const before = sampler.cpuTicks();
    // A child that burns 300 ms of CPU and exits; spawnSync reaps it, so its time is in our cutime.
    const child = spawnSync(process.execPath, ['-e', 'while (process.cpuUsage().user < 300000);']);
    expect(child.status).toBe(0);
    const after = sampler.cpuTicks();
    const alone = (after.alone ?? 0) - (before.alone ?? 0);
    const tree = (after.tree ?? 0) - (before.tree ?? 0);
    expect(tree - alone).toBeGreaterThanOrEqual(25);
  });

  it("sums a group's members, and has no CPU reading once one of them is gone", () => {
    const child = spawnSync(process.execPath, ['-e', '0']);
    expect(child.status).toBe(0);
    const sampler = new ProcessSampler({
      alone: process.pid,
      pair: { members: [process.pid, process.pid] },
      broken: { members: [process.pid, child.pid] },
    });
    const ticks = sampler.cpuTicks();
    expect(ticks.pair).toBeGreaterThanOrEqual(2 * (ticks.alone ?? 0));
    expect(ticks.broken).toBeNull();
    const report = sampler.start(10).stop();
    expect(report.pair?.processes).toBe(2);
    expect(report.pair?.lastRssMiB).toBeGreaterThan(1.5 * (report.alone?.lastRssMiB ?? Infinity));
  });
});
