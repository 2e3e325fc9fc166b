import { HttpException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { limitParam, textParam, timeParam, timeRangeParams } from './query-http';

function refusal(run: () => unknown): { status: number; body: unknown } {
  try {
    run();
  } catch (error) {
    if (error instanceof HttpException) return { status: error.getStatus(), body: error.getResponse() };
    throw error;
  }
  throw new Error('not refused');
}

describe('query parameters', () => {
  it('reads RFC 3339 times with a zone, and the Cinder timestamps events carry as UTC', () => {
    expect(timeParam('from', '2026-11-28T09:29:46Z')).toBe(Date.UTC(2026, 10, 28, 9, 29, 46));
    expect(timeParam('from', '2026-11-28T10:29:46.5+01:00')).toBe(Date.UTC(2026, 10, 28, 9, 29, 46, 500));
    expect(timeParam('from', '2026-11-28T09:29:46.743632')).toBe(Date.UTC(2026, 10, 28, 9, 29, 46, 743));
    expect(timeParam('from', undefined)).toBeUndefined();
    expect(timeParam('from', '')).toBeUndefined();
  });

  it('refuses a time without a zone, a date alone, or a repeated parameter, in the service error shape', () => {
    for (const value of ['2026-11-28T09:29:46', '2026-11-28', 'now', ['2026-11-28T09:29:46Z', '2026-11-29T09:29:46Z']]) {
      expect(refusal(() => timeParam('to', value))).toEqual({
        status: 400,
        body: { error: { code: 'EVS.5400', message: "Query parameter 'to' must be a time such as 2026-11-28T09:29:46Z." } },
      });
    }
  });

  it('refuses a range that ends before it starts', () => {
    expect(refusal(() => timeRangeParams('2026-02-01T00:00:00Z', '2026-01-01T00:00:00Z')).status).toBe(400);
    expect(timeRangeParams(undefined, '2026-01-01T00:00:00Z')).toEqual({ fromMs: undefined, toMs: Date.UTC(2026, 0, 1) });
  });

  it('takes a page size within bounds and text filters given once', () => {
    expect(limitParam(undefined, { fallback: 100, max: 1000 })).toBe(100);
    expect(limitParam('7', { fallback: 100, max: 1000 })).toBe(7);
    for (const bad of ['0', '1001', '-1', '2.5', 'ten']) {
      expect(refusal(() => limitParam(bad, { fallback: 100, max: 1000 })).status, bad).toBe(400);
    }
    expect(textParam('disk_id', 'd-1')).toBe('d-1');
    expect(refusal(() => textParam('disk_id', ['a', 'b'])).status).toBe(400);
  });
});
