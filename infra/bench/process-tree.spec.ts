import { describe, expect, it } from 'vitest';
import { descendants, parseProcStat, type ProcStat, type ProcessTable, treeTicks } from './process-tree';

/** /proc/<pid>/stat text with the fields the benchmark reads; the rest are zeros. */
function statText(pid: number, comm: string, ppid: number, utime: number, stime: number, cutime = 0, cstime = 0): string {
  const rest = ['S', ppid, pid, pid, 0, -1, 4194304, 100, 0, 0, 0, utime, stime, cutime, cstime, 20, 0, 1, 0, 1000];
  return `${pid} (${comm}) ${rest.join(' ')}`;
}

function table(...rows: [pid: number, comm: string, ppid: number, own: number, reaped: number][]): ProcessTable {
  return new Map(rows.map(([pid, comm, ppid, ownTicks, reapedChildTicks]): [number, ProcStat] => [pid, { pid, comm, ppid, ownTicks, reapedChildTicks }]));
}

describe('parseProcStat', () => {
  it('reads the parent and both kinds of CPU time, whatever the command name holds', () => {
    expect(parseProcStat(statText(4242, 'postgres: walwriter (x)', 100, 250, 50, 7, 3))).toEqual({
      pid: 4242,
      comm: 'postgres: walwriter (x)',
      ppid: 100,
      ownTicks: 300,
      reapedChildTicks: 10,
    });
  });

  it('gives null for text that is not a stat line', () => {
    expect(parseProcStat('')).toBeNull();
    expect(parseProcStat('12 (node) S 1')).toBeNull();
  });
});

describe('descendants and treeTicks', () => {
  // A postmaster (100) with a checkpointer and a backend that forked a helper; an unrelated node process.
  const before = table(
    [1, 'init', 0, 0, 0],
    [100, 'postgres', 1, 50, 0],
    [101, 'postgres', 100, 20, 0],
    [102, 'postgres', 100, 30, 5],
    [103, 'postgres', 102, 4, 0],
    [200, 'node', 1, 999, 0],
  );

  it('finds every process under the root, and none beside it', () => {
    expect(descendants(before, 100).sort()).toEqual([101, 102, 103]);
    expect(descendants(before, 200)).toEqual([]);
  });

  it('adds up the root and every live descendant, each with what its reaped children spent', () => {
    expect(treeTicks(before, 100)).toBe(50 + 20 + 30 + 5 + 4);
    expect(treeTicks(before, 999)).toBeNull();
  });

  it('leaves out a process measured under its own name, and what is under it', () => {
    expect(treeTicks(before, 100, new Set([102]))).toBe(50 + 20);
  });

  it('still counts a backend that ended between two readings, through its parent', () => {
    // The helper (103) spent 2 more and exited, reaped by the backend (102), which spent 5 more and
    // exited, reaped by the postmaster: its cutime gains the backend's own 35 and its reaped 5 + 6.
    // A new backend (104) began and spent 8.
    const after = table(
      [1, 'init', 0, 0, 0],
      [100, 'postgres', 1, 60, 35 + 5 + 6],
      [101, 'postgres', 100, 25, 0],
      [104, 'postgres', 100, 8, 0],
    );
    const spent = (treeTicks(after, 100) ?? 0) - (treeTicks(before, 100) ?? 0);
    // postmaster 10 + checkpointer 5 + the ended backend's last 5 + the helper's last 2 + the new backend's 8.
    expect(spent).toBe(10 + 5 + 5 + 2 + 8);
  });
});
