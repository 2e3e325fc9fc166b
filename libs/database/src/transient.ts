/**
 * Which database errors are worth another try, and a bounded retry for them.
 * A serialization failure or deadlock means another transaction won a race:
 * running the whole transaction again sees its result. A lost connection or a
 * server that is starting or shutting down may be back in a moment. Anything
 * else (a constraint, a syntax error) would fail again, so it is not retried.
 */

/** SQLSTATEs: serialization_failure, deadlock_detected, and the server going or not there yet. */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300']);
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const TRANSIENT_SQLITE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED']);
/** What pg says when the socket closes under a query, with no code to go by. */
const CONNECTION_LOST = /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i;

export function isTransientDatabaseError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_NODE_CODES.has(code) || TRANSIENT_SQLITE_CODES.has(code)) return true;
  }
  if (CONNECTION_LOST.test(err.message)) return true;
  // AggregateError from a connect that tried several addresses.
  const errors = (err as { errors?: unknown }).errors;
  return Array.isArray(errors) && errors.some(isTransientDatabaseError);
}

/** The database could not be reached or kept failing: the caller answers 503, nothing was done. */
export class DatabaseUnavailableError extends Error {
  constructor(
    readonly store: string,
    override readonly cause: unknown,
  ) {
    super(`the ${store} store is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'DatabaseUnavailableError';
  }
}

export interface RetryPolicy {
  attempts: number;
  /** The first wait; each later one doubles, with jitter, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 5, baseDelayMs: 20, maxDelayMs: 500 };

/**
 * Runs work (one whole transaction, so a retry repeats all of it or none) and
 * tries again on a transient error, at most policy.attempts times in all.
 * The last transient error becomes DatabaseUnavailableError; any other error
 * is thrown as it is, at once.
 */
export async function withDatabaseRetry<T>(
  store: string,
  work: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!isTransientDatabaseError(err)) throw err;
      if (attempt >= policy.attempts) throw new DatabaseUnavailableError(store, err);
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
    }
  }
}
