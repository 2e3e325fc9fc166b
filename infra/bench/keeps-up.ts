/**
 * Whether the stack kept up with an arrival rate over a measured window: a
 * pure judgement of what one open-loop step observed. A stack keeps up when
 * it finishes journeys as fast as they arrive, so the journeys in flight
 * (the backlog) do not pile up over the window and the latest arrivals do
 * not wait much longer than the first. Past its saturation rate the backlog
 * grows by (arrival rate - service rate) every second and latency grows with
 * it; below, both wander around a level.
 */
import { percentile } from './stats';

export interface StepObservation {
  windowMs: number;
  /** Journeys due inside the window. */
  arrived: number;
  /** Of those, journeys that ended without finishing (an error answer or a failed call). */
  failed: number;
  /** Journeys of the step still running when the driver stopped waiting for them. */
  unfinished: number;
  /** Journeys that found the in-flight cap reached. */
  capWaits: number;
  /** Journeys in flight, sampled (each second) inside the window; atMs from the window's start. */
  backlog: readonly { atMs: number; inFlight: number }[];
  /** Arrival → end of the finished journeys due in the window's first half, and in its second. */
  journeyMsFirstHalf: readonly number[];
  journeyMsSecondHalf: readonly number[];
}

export const KEEP_UP_TOLERANCE = {
  /** The backlog may grow over the window by this many journeys ... */
  backlogGrowthJourneys: 5,
  /** ... or by this share of the journeys that arrived, whichever is more (noise at a level, not a trend). */
  backlogGrowthShare: 0.05,
  /** Journeys that may fail, as a share of those that arrived. */
  errorShare: 0.01,
  /** The second half's p99 journey time diverges when it is more than this many times the first's ... */
  p99GrowthFactor: 2,
  /** ... and longer by more than this (a doubling of a few milliseconds is noise). */
  p99GrowthMs: 250,
  /**
   * Journeys each half needs for the p99 test to be made: with fewer, a
   * half's p99 is its slowest journey or two, and one slow journey is not a
   * trend (the backlog test still applies).
   */
  p99MinJourneys: 50,
};

export type KeepUpTolerance = typeof KEEP_UP_TOLERANCE;

export interface KeepUpVerdict {
  keptUp: boolean;
  /** Why not, one line each; empty when it kept up. */
  reasons: string[];
  /** The backlog's trend over the window (least-squares slope × window), in journeys. */
  backlogGrowth: number;
  p99FirstHalfMs: number;
  p99SecondHalfMs: number;
}

/** The least-squares slope of y over x; 0 with fewer than two distinct x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const meanX = points.reduce((s, p) => s + p.x, 0) / n;
  const meanY = points.reduce((s, p) => s + p.y, 0) / n;
  let covariance = 0;
  let varianceX = 0;
  for (const p of points) {
    covariance += (p.x - meanX) * (p.y - meanY);
    varianceX += (p.x - meanX) ** 2;
  }
  return varianceX === 0 ? 0 : covariance / varianceX;
}

const p99 = (samples: readonly number[]) => percentile([...samples].sort((a, b) => a - b), 99);

export function judgeStep(o: StepObservation, tolerance: KeepUpTolerance = KEEP_UP_TOLERANCE): KeepUpVerdict {
  const reasons: string[] = [];
  const backlogGrowth = slope(o.backlog.map((s) => ({ x: s.atMs, y: s.inFlight }))) * o.windowMs;
  const allowedGrowth = Math.max(tolerance.backlogGrowthJourneys, tolerance.backlogGrowthShare * o.arrived);
  const first = p99(o.journeyMsFirstHalf);
  const second = p99(o.journeyMsSecondHalf);
  const fmt = (v: number) => String(Math.round(v * 10) / 10);

  if (o.arrived === 0) reasons.push('nothing arrived in the window');
  if (backlogGrowth > allowedGrowth) {
    reasons.push(`the backlog grew by ${fmt(backlogGrowth)} journeys over the window (allowed ${fmt(allowedGrowth)})`);
  }
  const enough = Math.min(o.journeyMsFirstHalf.length, o.journeyMsSecondHalf.length) >= tolerance.p99MinJourneys;
  if (enough && second > first * tolerance.p99GrowthFactor && second - first > tolerance.p99GrowthMs) {
    reasons.push(`p99 journey time diverged: ${fmt(first)} ms in the first half, ${fmt(second)} ms in the second`);
  }
  if (o.failed > tolerance.errorShare * o.arrived) reasons.push(`${o.failed} of ${o.arrived} journeys failed`);
  if (o.unfinished > 0) reasons.push(`${o.unfinished} journeys had not ended when the driver stopped waiting`);
  if (o.capWaits > 0) reasons.push(`${o.capWaits} journeys met the in-flight cap`);
  return { keptUp: reasons.length === 0, reasons, backlogGrowth, p99FirstHalfMs: first, p99SecondHalfMs: second };
}
