/**
 * CPU per unit of work: what each process spent between two readings of
 * its CPU ticks (ProcessSampler.cpuTicks), divided by the transfers (or
 * baseline workflows) completed between them, in milliseconds; and the sum
 * over the processes that make up the system measured.
 */
import { TICKS_PER_SECOND } from './process-sampler';

export interface CpuPerUnit {
  /** ms of CPU per unit, per process; null where a reading is missing or nothing completed. */
  perProcessMs: Record<string, number | null>;
  /** Sum over the processes of `totalOf`; null when none of them could be measured. */
  totalMs: number | null;
  /** The processes the total covers: those asked for that were measured. */
  totalOf: string[];
  /** Those asked for that could not be measured though something completed (gone or restarted meanwhile). */
  missingFromTotal: string[];
  units: number;
}

export function cpuMsPerUnit(
  before: Record<string, number | null>,
  after: Record<string, number | null>,
  units: number,
  inTotal: readonly string[],
  ticksPerSecond = TICKS_PER_SECOND,
): CpuPerUnit {
  const perProcessMs: Record<string, number | null> = {};
  for (const name of Object.keys(before)) {
    const b = before[name];
    const a = after[name];
    // A count that went backwards is another process under the same pid: no reading.
    const spent = b == null || a == null || a < b ? null : a - b;
    perProcessMs[name] = spent === null || units <= 0 ? null : (spent * 1000) / ticksPerSecond / units;
  }
  const totalOf = inTotal.filter((name) => perProcessMs[name] != null);
  const missingFromTotal = units > 0 ? inTotal.filter((name) => perProcessMs[name] == null) : [];
  const totalMs = totalOf.length === 0 ? null : totalOf.reduce((sum, name) => sum + (perProcessMs[name] ?? 0), 0);
  return { perProcessMs, totalMs, totalOf, missingFromTotal, units };
}
