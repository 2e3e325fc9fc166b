/**
 * The query side both consumers share: reading time ranges and page sizes
 * from a query string, writing times, and errors in the service's one error
 * shape ({"error": {"code", "message"}}, codes from the error catalogue).
 */
import { HttpException } from '@nestjs/common';
import { ERROR_CATALOGUE } from '../../domain/src/errors';
import { fromCinderTimestamp } from '../../domain/src/ids';

export type QueryErrorName = 'BadRequest' | 'Unauthenticated' | 'Forbidden' | 'NotFound' | 'DependencyUnavailable';

export function queryError(name: QueryErrorName, message: string): HttpException {
  const { status, code } = ERROR_CATALOGUE[name];
  return new HttpException({ error: { code, message } }, status);
}

/** RFC 3339 with a zone (Z or ±hh:mm); a zone-less time would be read in the server's zone. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * Epoch milliseconds of a query parameter, or undefined when absent. Takes
 * RFC 3339 with a zone, or the Cinder timestamps the events carry (UTC).
 */
export function timeParam(name: string, value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string') {
    const cinder = fromCinderTimestamp(value);
    if (cinder !== null) return cinder;
    if (RFC3339.test(value)) {
      const ms = Date.parse(value);
      if (!Number.isNaN(ms)) return ms;
    }
  }
  throw queryError('BadRequest', `Query parameter '${name}' must be a time such as 2026-11-28T09:29:46Z.`);
}

/** from and to together: from must come before to. */
export function timeRangeParams(from: unknown, to: unknown): { fromMs: number | undefined; toMs: number | undefined } {
  const fromMs = timeParam('from', from);
  const toMs = timeParam('to', to);
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) {
    throw queryError('BadRequest', "Query parameter 'from' must be earlier than 'to'.");
  }
  return { fromMs, toMs };
}

export function limitParam(value: unknown, defaults: { fallback: number; max: number }): number {
  if (value === undefined || value === '') return defaults.fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > defaults.max) {
    throw queryError('BadRequest', `Query parameter 'limit' must be an integer from 1 to ${defaults.max}.`);
  }
  return n;
}

/** An optional text filter; repeated parameters (?a=1&a=2) are refused rather than guessed at. */
export function textParam(name: string, value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 255) {
    throw queryError('BadRequest', `Query parameter '${name}' must be given once, at most 255 characters.`);
  }
  return value;
}

/** Times in answers: RFC 3339, UTC, milliseconds. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
