/**
 * The search for the saturation rate: the highest arrival rate the stack
 * keeps up with for a whole step. Pure: given the steps tried so far (rate,
 * kept up or not), the next rate to try, or null when the search is done.
 *
 * It doubles from the start rate while every step keeps up, halves while
 * none has, and then bisects between the highest rate that kept up and the
 * lowest that did not, until they are within the precision asked. A rate
 * that kept up above one that did not (noise near the edge) does not count:
 * the saturation rate is the highest kept-up rate below the lowest failure.
 */
import { round } from './stats';

export interface SearchSettings {
  startRate: number;
  /** Done when (lowest failed - highest kept up) / highest kept up is at most this. */
  precision: number;
  /** Steps in all, whatever the bounds then are. */
  maxSteps: number;
  /** Give up halving below this: nothing can be measured that slowly. */
  minRate: number;
  /** Give up doubling above this. */
  maxRate: number;
}

export const SEARCH_DEFAULTS: Omit<SearchSettings, 'startRate'> = { precision: 0.1, maxSteps: 12, minRate: 0.25, maxRate: 2000 };

export interface SearchStep {
  rate: number;
  keptUp: boolean;
}

/** The highest rate kept up with below the lowest that was not, and that lowest (null where none). */
export function searchBounds(history: readonly SearchStep[]): { keptUp: number | null; failed: number | null } {
  const failures = history.filter((s) => !s.keptUp).map((s) => s.rate);
  const failed = failures.length === 0 ? null : Math.min(...failures);
  const kept = history.filter((s) => s.keptUp && (failed === null || s.rate < failed)).map((s) => s.rate);
  return { keptUp: kept.length === 0 ? null : Math.max(...kept), failed };
}

/** The saturation rate the steps so far point to; null while no step has kept up. */
export function saturationRate(history: readonly SearchStep[]): number | null {
  return searchBounds(history).keptUp;
}

export function nextSearchRate(history: readonly SearchStep[], settings: SearchSettings): number | null {
  if (history.length === 0) return settings.startRate;
  if (history.length >= settings.maxSteps) return null;
  const { keptUp, failed } = searchBounds(history);
  let next: number;
  if (failed === null) {
    next = 2 * (keptUp ?? settings.startRate);
    if (next > settings.maxRate) return null;
  } else if (keptUp === null) {
    next = failed / 2;
    if (next < settings.minRate) return null;
  } else {
    if ((failed - keptUp) / keptUp <= settings.precision) return null;
    next = (keptUp + failed) / 2;
  }
  next = round(next, 2);
  return history.some((s) => s.rate === next) ? null : next;
}

/** The shares of the saturation rate measured once it is known: the 25, 50 and 75 %, and 70 % for the headline p99. */
export const MEASURED_SHARES = [0.25, 0.5, 0.7, 0.75] as const;
