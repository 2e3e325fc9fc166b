/**
 * Resident memory and CPU time of the stack's processes, read from /proc
 * while the benchmark runs. The peak is the highest VmRSS sampled, not the
 * kernel's VmHWM: that covers a process's whole life, start-up and earlier
 * phases included, where the benchmark wants the phase it measures.
 *
 * A process is measured alone, or (a PostgreSQL cluster: the postmaster and
 * the backends it forks) with everything under it: see process-tree.ts. Its
 * memory is then the root's alone, since children share pages with it.
 * Several processes of one kind (the cluster topology's replicas) can be
 * measured as one group: their CPU and their memory are summed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readProcessTable, treeTicks } from './process-tree';

/** What one process used while a phase ran. */
export interface ProcessUsage {
  /** The process's pid (a group's first member's). */
  pid: number | null;
  /** How many processes were measured under the name (a group's members). */
  processes: number;
  /** Highest VmRSS seen while sampling, MiB. */
  peakRssMiB: number | null;
  /** VmRSS at the last sample, MiB. */
  lastRssMiB: number | null;
  /** CPU time (user + system) spent between start and stop, seconds. */
  cpuSeconds: number | null;
}

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks on every architecture Node runs on. */
export const TICKS_PER_SECOND = 100;

/** A process measured with its descendants (those measured under a name of their own left out). */
export interface ProcessTree {
  pid: number;
  tree: true;
}

/** Processes of one kind measured as one (each a process or a tree); empty when none runs. */
export interface ProcessGroup {
  members: (number | ProcessTree)[];
}

/** What to measure under a name: one process, a process tree, a group, or nothing (not running). */
export type ProcessTarget = number | ProcessTree | ProcessGroup | null;

type Member = number | ProcessTree;

const membersOf = (target: ProcessTarget): Member[] =>
  target === null ? [] : typeof target === 'object' && 'members' in target ? target.members : [target];
const pidOfMember = (member: Member): number => (typeof member === 'number' ? member : member.pid);

/** utime + stime of /proc/<pid>/stat text, in ticks (fields 14 and 15, counted after the command's closing parenthesis). */
export function statCpuTicks(statText: string): number | null {
  const fields = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : null;
}

function readCpuTicks(pid: number): number | null {
  try {
    return statCpuTicks(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** The kB value of one field (VmRSS, ...) of /proc/<pid>/status text, or null. */
export function statusFieldKiB(statusText: string, field: string): number | null {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(statusText);
  return match ? Number(match[1]) : null;
}

function readRssKiB(pid: number): number | null {
  try {
    return statusFieldKiB(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
  } catch {
    return null;
  }
}

/**
 * The pid a script recorded for a part of the stack in DIR/NAME.pid (infra/up.sh's gateway,
 * worker, ...; the cluster's hosts; HAProxy's master, the first line of its file), or null
 * when it is not running.
 */
export function stackPid(runDir: string, name: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(runDir, `${name}.pid`), 'utf8').split('\n')[0].trim());
    return Number.isInteger(pid) && pid > 0 && fs.existsSync(`/proc/${pid}`) ? pid : null;
  } catch {
    return null;
  }
}

/** The recorded pids of several parts of the stack, by name (null where one is not running). */
export function stackPids(runDir: string, names: readonly string[]): Record<string, number | null> {
  return Object.fromEntries(names.map((name) => [name, stackPid(runDir, name)]));
}

const toMiB = (kib: number) => Math.round((kib / 1024) * 10) / 10;

export class ProcessSampler {
  private readonly pids: Record<string, number[]>;
  private readonly peaks = new Map<string, number>();
  private readonly last = new Map<string, number>();
  private cpuAtStart: Record<string, number | null> = {};
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly targets: Record<string, ProcessTarget>) {
    this.pids = Object.fromEntries(Object.entries(targets).map(([name, target]) => [name, membersOf(target).map(pidOfMember)]));
  }

  /**
   * CPU ticks each process (tree, group) has used so far; two readings'
   * difference is what it spent between them. A group with a member gone
   * has no reading: what it spent can no longer be known.
   */
  cpuTicks(): Record<string, number | null> {
    const members = Object.values(this.targets).flatMap(membersOf);
    const table = members.some((m) => typeof m === 'object') ? readProcessTable() : null;
    const named = new Set(members.map(pidOfMember));
    const ticksOf = (member: Member): number | null => {
      if (typeof member === 'number') return readCpuTicks(member);
      const others = new Set([...named].filter((pid) => pid !== member.pid));
      return table === null ? null : treeTicks(table, member.pid, others);
    };
    return Object.fromEntries(
      Object.entries(this.targets).map(([name, target]) => {
        const ticks = membersOf(target).map(ticksOf);
        return [name, ticks.length === 0 || ticks.includes(null) ? null : ticks.reduce<number>((sum, t) => sum + (t ?? 0), 0)];
      }),
    );
  }

  start(intervalMs = 250): this {
    this.cpuAtStart = this.cpuTicks();
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    for (const [name, pids] of Object.entries(this.pids)) {
      if (pids.length === 0) continue;
      const readings = pids.map(readRssKiB);
      if (readings.includes(null)) continue;
      const rss = readings.reduce<number>((sum, r) => sum + (r ?? 0), 0);
      this.last.set(name, rss);
      this.peaks.set(name, Math.max(rss, this.peaks.get(name) ?? 0));
    }
  }

  /** Stops sampling (after one last sample) and reports each process. */
  stop(): Record<string, ProcessUsage> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    const cpuAtStop = this.cpuTicks();
    return Object.fromEntries(
      Object.entries(this.pids).map(([name, pids]) => {
        const peak = this.peaks.get(name);
        const last = this.last.get(name);
        const before = this.cpuAtStart[name] ?? null;
        const after = cpuAtStop[name] ?? null;
        const cpuSeconds = before === null || after === null ? null : (after - before) / TICKS_PER_SECOND;
        return [
          name,
          { pid: pids[0] ?? null, processes: pids.length, peakRssMiB: peak === undefined ? null : toMiB(peak), lastRssMiB: last === undefined ? null : toMiB(last), cpuSeconds },
        ];
      }),
    );
  }
}
