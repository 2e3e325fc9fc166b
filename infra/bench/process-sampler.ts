/**
 * Resident memory and CPU time of the stack's processes, read from /proc
 * while the benchmark runs. The peak is the highest VmRSS sampled, not the
 * kernel's VmHWM: that covers a process's whole life, start-up and earlier
 * phases included, where the benchmark wants the phase it measures.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What one process used while a phase ran. */
export interface ProcessUsage {
  pid: number | null;
  /** Highest VmRSS seen while sampling, MiB. */
  peakRssMiB: number | null;
  /** VmRSS at the last sample, MiB. */
  lastRssMiB: number | null;
  /** CPU time (user + system) spent between start and stop, seconds. */
  cpuSeconds: number | null;
}

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

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

/** The pid infra/up.sh recorded for a part of the stack (gateway, worker, inventory, temporal, kafka), or null. */
export function stackPid(runDir: string, name: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(runDir, `${name}.pid`), 'utf8').trim());
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
  private readonly peaks = new Map<string, number>();
  private readonly last = new Map<string, number>();
  private readonly cpuAtStart = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pids: Record<string, number | null>) {}

  start(intervalMs = 250): this {
    for (const [name, pid] of Object.entries(this.pids)) {
      const ticks = pid === null ? null : readCpuTicks(pid);
      if (ticks !== null) this.cpuAtStart.set(name, ticks);
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      if (pid === null) continue;
      const rss = readRssKiB(pid);
      if (rss === null) continue;
      this.last.set(name, rss);
      this.peaks.set(name, Math.max(rss, this.peaks.get(name) ?? 0));
    }
  }

  /** Stops sampling (after one last sample) and reports each process. */
  stop(): Record<string, ProcessUsage> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return Object.fromEntries(
      Object.entries(this.pids).map(([name, pid]) => {
        const peak = this.peaks.get(name);
        const last = this.last.get(name);
        const before = this.cpuAtStart.get(name);
        const after = pid === null ? null : readCpuTicks(pid);
        const cpuSeconds = before === undefined || after === null ? null : (after - before) / TICKS_PER_SECOND;
        return [
          name,
          { pid, peakRssMiB: peak === undefined ? null : toMiB(peak), lastRssMiB: last === undefined ? null : toMiB(last), cpuSeconds },
        ];
      }),
    );
  }
}
