/**
 * Waiting for the stack to be idle between open-loop steps. A step the stack
 * could not keep up with leaves work behind that goes on after its clients
 * gave up (workflows whose create timed out still lock, publish and go
 * pending), and a step started on top of that backlog measures the backlog:
 * the search then mistakes a rate the stack keeps up with for one it does
 * not. So the next step starts only once the stack's processes together
 * have used less than a small share of a core for a whole interval.
 */
import { TICKS_PER_SECOND } from './process-sampler';

export interface QuietSettings {
  /** Cores the stack may use, summed over its processes, and still count as idle. */
  maxCores: number;
  /** How long each reading covers. */
  intervalMs: number;
  /** Give up waiting after this long (the step then starts anyway, and the wait is reported). */
  limitMs: number;
}

export const QUIET_DEFAULTS: QuietSettings = { maxCores: 0.25, intervalMs: 3000, limitMs: 600_000 };

/** Cores used between two readings of CPU ticks by process; a process missing from either reading is left out. */
export function coresUsed(before: Record<string, number | null>, after: Record<string, number | null>, elapsedMs: number): number {
  let ticks = 0;
  for (const [name, start] of Object.entries(before)) {
    const end = after[name];
    if (start == null || end == null) continue;
    ticks += Math.max(0, end - start);
  }
  return elapsedMs <= 0 ? 0 : ticks / TICKS_PER_SECOND / (elapsedMs / 1000);
}

export interface QuietOutcome {
  quiet: boolean;
  waitedMs: number;
  /** The last reading, in cores. */
  cores: number;
}

/** Reads `cpuTicks` every interval until one interval's use is under the limit, or the time limit passes. */
export async function waitForQuiet(
  cpuTicks: () => Record<string, number | null>,
  settings: QuietSettings = QUIET_DEFAULTS,
  clock: { now(): number; sleep(ms: number): Promise<void> } = { now: Date.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
): Promise<QuietOutcome> {
  const started = clock.now();
  let cores = Number.POSITIVE_INFINITY;
  for (;;) {
    const before = cpuTicks();
    const at = clock.now();
    await clock.sleep(settings.intervalMs);
    cores = coresUsed(before, cpuTicks(), clock.now() - at);
    const waitedMs = clock.now() - started;
    if (cores < settings.maxCores) return { quiet: true, waitedMs, cores };
    if (waitedMs >= settings.limitMs) return { quiet: false, waitedMs, cores };
  }
}
