/**
 * Resident memory of the stack's processes, sampled from /proc while the
 * benchmark runs. The peak is the highest sample; VmHWM (the kernel's own
 * high-water mark) is read too, but it covers the whole life of a process,
 * start-up included, so it is only reported beside the sampled peak.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ProcessMemory {
  pid: number | null;
  /** Highest VmRSS seen while sampling, MiB. */
  peakRssMiB: number | null;
  /** VmRSS at the last sample, MiB. */
  lastRssMiB: number | null;
}

/** The kB value of one field (VmRSS, VmHWM) of /proc/<pid>/status text, or null. */
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

const toMiB = (kib: number) => Math.round((kib / 1024) * 10) / 10;

export class MemorySampler {
  private readonly peaks = new Map<string, number>();
  private readonly last = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pids: Record<string, number | null>) {}

  start(intervalMs = 250): this {
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
  stop(): Record<string, ProcessMemory> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return Object.fromEntries(
      Object.entries(this.pids).map(([name, pid]) => {
        const peak = this.peaks.get(name);
        const last = this.last.get(name);
        return [name, { pid, peakRssMiB: peak === undefined ? null : toMiB(peak), lastRssMiB: last === undefined ? null : toMiB(last) }];
      }),
    );
  }
}
