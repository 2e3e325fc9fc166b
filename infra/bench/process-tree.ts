/**
 * CPU time of a process together with everything under it, read from
 * /proc. A PostgreSQL cluster is a postmaster and the children it forks (a
 * backend per connection, the checkpointer, the WAL writer, ...), and
 * backends come and go: a child's CPU time is in its own /proc/<pid>/stat
 * while it lives and, once its parent has reaped it, in the parent's
 * cutime/cstime. So the tree's total at an instant is, for the root and each
 * live descendant, its own time plus its reaped children's; the difference
 * between two instants is what the tree spent between them, children born
 * and gone in between included.
 */
import * as fs from 'node:fs';

export interface ProcStat {
  pid: number;
  /** The command name /proc gives (at most 15 characters), e.g. "postgres", "node", "java". */
  comm: string;
  ppid: number;
  /** utime + stime: CPU time of the process itself, in clock ticks. */
  ownTicks: number;
  /** cutime + cstime: CPU time of its children that it has waited for, in clock ticks. */
  reapedChildTicks: number;
}

/** The fields of /proc/<pid>/stat text that the benchmark reads; null for text it cannot parse. */
export function parseProcStat(statText: string): ProcStat | null {
  const open = statText.indexOf('(');
  const close = statText.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(statText.slice(0, open).trim());
  const comm = statText.slice(open + 1, close);
  // After the command: field 3 (state) is at 0, so ppid (4) is at 1, utime..cstime (14-17) at 11-14.
  const fields = statText.slice(close + 2).split(' ');
  const [ppid, utime, stime, cutime, cstime] = [1, 11, 12, 13, 14].map((i) => Number(fields[i]));
  if (![pid, ppid, utime, stime, cutime, cstime].every(Number.isFinite)) return null;
  return { pid, comm, ppid, ownTicks: utime + stime, reapedChildTicks: cutime + cstime };
}

export type ProcessTable = ReadonlyMap<number, ProcStat>;

/** Every process this user can see, from /proc; those that vanish while it is read are left out. */
export function readProcessTable(procDir = '/proc'): ProcessTable {
  const table = new Map<number, ProcStat>();
  for (const entry of fs.readdirSync(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseProcStat(fs.readFileSync(`${procDir}/${entry}/stat`, 'utf8'));
      if (stat) table.set(stat.pid, stat);
    } catch {
      // Gone since the directory was listed.
    }
  }
  return table;
}

/** The live descendants of `root` (not root itself), leaving out `exclude` and everything under them. */
export function descendants(table: ProcessTable, root: number, exclude: ReadonlySet<number> = new Set()): number[] {
  const children = new Map<number, number[]>();
  for (const p of table.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const found: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (exclude.has(pid) || pid === root) continue;
    found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/**
 * CPU ticks of `root` and every live descendant, each with its reaped
 * children's; null when root is not in the table. Processes in `exclude`
 * (measured under a name of their own) and their subtrees are left out.
 */
export function treeTicks(table: ProcessTable, root: number, exclude: ReadonlySet<number> = new Set()): number | null {
  const rootStat = table.get(root);
  if (!rootStat) return null;
  let ticks = rootStat.ownTicks + rootStat.reapedChildTicks;
  for (const pid of descendants(table, root, exclude)) {
    const stat = table.get(pid);
    if (stat) ticks += stat.ownTicks + stat.reapedChildTicks;
  }
  return ticks;
}
