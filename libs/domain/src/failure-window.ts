/**
 * Counts a caller's failures over a sliding window and refuses the caller
 * once it has too many. The per-transfer lock-out stops guessing on one
 * transfer; this stops a caller spreading its guesses over many transfers
 * (or over transfer ids that do not exist).
 *
 * Time is passed in, so the rule is pure and testable. Memory is bounded:
 * at most maxFailures timestamps per caller and at most maxCallers callers,
 * the least recently failing forgotten first.
 */
export interface FailureWindowPolicy {
  maxFailures: number;
  windowMs: number;
  /** Callers remembered at once; past this the stalest is dropped. */
  maxCallers: number;
}

export type FailureWindowVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

export class FailureWindow {
  /** Per caller, its failure times within the window, oldest first; Map order = least recently failed first. */
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly policy: FailureWindowPolicy) {
    if (policy.maxFailures < 1 || policy.windowMs <= 0 || policy.maxCallers < 1) {
      throw new Error('FailureWindow needs maxFailures >= 1, windowMs > 0 and maxCallers >= 1');
    }
  }

  check(caller: string, nowMs: number): FailureWindowVerdict {
    const times = this.recent(caller, nowMs);
    if (times.length < this.policy.maxFailures) return { allowed: true };
    // Full: the caller may try again once the oldest failure leaves the window.
    return { allowed: false, retryAfterMs: times[0] + this.policy.windowMs - nowMs };
  }

  recordFailure(caller: string, nowMs: number): void {
    const times = this.recent(caller, nowMs);
    times.push(nowMs);
    if (times.length > this.policy.maxFailures) times.shift();
    this.failures.delete(caller);
    this.failures.set(caller, times);
    if (this.failures.size > this.policy.maxCallers) {
      const stalest = this.failures.keys().next().value;
      if (stalest !== undefined) this.failures.delete(stalest);
    }
  }

  /** How many callers are remembered (for tests and metrics). */
  get size(): number {
    return this.failures.size;
  }

  private recent(caller: string, nowMs: number): number[] {
    const times = this.failures.get(caller);
    if (times === undefined) return [];
    const horizon = nowMs - this.policy.windowMs;
    while (times.length > 0 && times[0] <= horizon) times.shift();
    if (times.length === 0) this.failures.delete(caller);
    return times;
  }
}
