/**
 * When the open-loop load's journeys are due: a pure schedule of arrival
 * instants (ms from the start of a step), fixed before the step runs, so the
 * load never waits on the system it measures. Poisson arrivals (independent
 * clients, exponential gaps) come from a seeded generator, so a run with the
 * same seed and rate makes the same arrivals; constant arrivals are evenly
 * spaced.
 */

export const ARRIVAL_PROCESSES = ['poisson', 'constant'] as const;
export type ArrivalProcess = (typeof ARRIVAL_PROCESSES)[number];

export interface ScheduleSpec {
  process: ArrivalProcess;
  ratePerSecond: number;
  /** Arrivals fall in [0, durationMs). */
  durationMs: number;
  /** Seeds the Poisson gaps; ignored for constant arrivals. */
  seed: number;
}

/**
 * A deterministic source of uniform numbers in (0, 1): a 32-bit xorshift
 * generator whose state is the seed mixed by a multiply-and-fold, so that
 * neighbouring seeds (1, 2, 3) do not start out alike. Never 0, so a
 * logarithm of it is always finite.
 */
export function seededUniform(seed: number): () => number {
  let state = Math.imul((seed | 0) ^ 0x5bd1e995, 0x27d4eb2d);
  state ^= state >>> 15;
  if (state === 0) state = 0x6d2b79f5;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    // xorshift never reaches 0 from a non-zero state: the result is in (0, 1).
    return (state >>> 0) / 2 ** 32;
  };
}

/** The arrival instants of one step, ascending, in ms from its start. */
export function arrivalSchedule(spec: ScheduleSpec): number[] {
  if (!(spec.ratePerSecond > 0) || !Number.isFinite(spec.ratePerSecond)) {
    throw new RangeError(`an arrival rate must be a positive number, not ${spec.ratePerSecond}`);
  }
  const meanGapMs = 1000 / spec.ratePerSecond;
  const arrivals: number[] = [];
  if (spec.process === 'constant') {
    for (let at = 0; at < spec.durationMs; at = arrivals.length * meanGapMs) arrivals.push(at);
    return arrivals;
  }
  const uniform = seededUniform(spec.seed);
  // Exponential gaps with the rate's mean: a Poisson process. The first
  // arrival is a gap in too, as in a process that was already running.
  for (let at = -Math.log(uniform()) * meanGapMs; at < spec.durationMs; at += -Math.log(uniform()) * meanGapMs) {
    arrivals.push(at);
  }
  return arrivals;
}
