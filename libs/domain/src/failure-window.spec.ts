import { describe, expect, it } from 'vitest';
import { FailureWindow } from './failure-window';

const MINUTE = 60_000;

describe('FailureWindow', () => {
  it('allows a caller until it has failed maxFailures times within the window', () => {
    const window = new FailureWindow({ maxFailures: 3, windowMs: 10 * MINUTE, maxCallers: 100 });
    for (let i = 0; i < 3; i++) {
      expect(window.check('p1', i * MINUTE)).toEqual({ allowed: true });
      window.recordFailure('p1', i * MINUTE);
    }
    // Failures at 0, 1 and 2 minutes: the one at 0 leaves the window at 10 minutes.
    expect(window.check('p1', 3 * MINUTE)).toEqual({ allowed: false, retryAfterMs: 7 * MINUTE });
    expect(window.check('p1', 10 * MINUTE)).toEqual({ allowed: true });
  });

  it('keeps callers apart', () => {
    const window = new FailureWindow({ maxFailures: 1, windowMs: MINUTE, maxCallers: 100 });
    window.recordFailure('attacker', 0);
    expect(window.check('attacker', 1).allowed).toBe(false);
    expect(window.check('bystander', 1).allowed).toBe(true);
  });

  it('slides: old failures stop counting, recent ones keep the caller out', () => {
    const window = new FailureWindow({ maxFailures: 2, windowMs: 10 * MINUTE, maxCallers: 100 });
    window.recordFailure('p1', 0);
    window.recordFailure('p1', 9 * MINUTE);
    expect(window.check('p1', 9 * MINUTE + 1)).toEqual({ allowed: false, retryAfterMs: MINUTE - 1 });
    // At 10 minutes the first failure is gone, one is left: allowed.
    expect(window.check('p1', 10 * MINUTE).allowed).toBe(true);
    window.recordFailure('p1', 10 * MINUTE);
    expect(window.check('p1', 10 * MINUTE)).toEqual({ allowed: false, retryAfterMs: 9 * MINUTE });
  });

  it('remembers at most maxCallers callers, forgetting the least recently failing', () => {
    const window = new FailureWindow({ maxFailures: 1, windowMs: MINUTE, maxCallers: 2 });
    window.recordFailure('a', 0);
    window.recordFailure('b', 1);
    window.recordFailure('a', 2);
    window.recordFailure('c', 3);
    expect(window.size).toBe(2);
    expect(window.check('b', 4).allowed).toBe(true);
    expect(window.check('a', 4).allowed).toBe(false);
    expect(window.check('c', 4).allowed).toBe(false);
  });

  it('forgets a caller whose failures have all expired', () => {
    const window = new FailureWindow({ maxFailures: 5, windowMs: MINUTE, maxCallers: 10 });
    window.recordFailure('p1', 0);
    expect(window.size).toBe(1);
    window.check('p1', 2 * MINUTE);
    expect(window.size).toBe(0);
  });

  it('refuses a policy that could never allow anything', () => {
    expect(() => new FailureWindow({ maxFailures: 0, windowMs: MINUTE, maxCallers: 1 })).toThrow();
  });
});
