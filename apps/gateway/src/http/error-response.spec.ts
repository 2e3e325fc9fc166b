import { DatabaseUnavailableError } from '../../../../libs/database/src/transient';
import { BadRequestException, HttpException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { DomainError, ERROR_CATALOGUE, type ErrorName } from '../../../../libs/domain/src/errors';
import { toErrorResponse } from './error-response';

describe('toErrorResponse', () => {
  it.each(Object.entries(ERROR_CATALOGUE) as [ErrorName, (typeof ERROR_CATALOGUE)[ErrorName]][])(
    'maps %s to its catalogue status and code',
    (name, entry) => {
      const response = toErrorResponse(new DomainError(name));
      expect(response.status).toBe(entry.status);
      expect(response.body).toEqual({ error: { code: entry.code, message: entry.message } });
    },
  );

  it('uses a precise message when the error carries one', () => {
    expect(toErrorResponse(new DomainError('BadRequest', { message: 'limit must be 1 to 1000' })).body.error.message).toBe(
      'limit must be 1 to 1000',
    );
  });

  it('gives 429 a whole-second Retry-After of at least 1', () => {
    expect(toErrorResponse(new DomainError('TooManyFailedAttempts', { retryAfterSeconds: 12.1 })).retryAfterSeconds).toBe(13);
    expect(toErrorResponse(new DomainError('TooManyFailedAttempts')).retryAfterSeconds).toBe(1);
    expect(toErrorResponse(new DomainError('InvalidAuthKey', { retryAfterSeconds: 5 })).retryAfterSeconds).toBeUndefined();
  });

  it('maps Nest HTTP errors by status onto the catalogue', () => {
    expect(toErrorResponse(new NotFoundException('Cannot GET /x')).body).toEqual({
      error: { code: 'EVS.5404', message: ERROR_CATALOGUE.NotFound.message },
    });
    expect(toErrorResponse(new BadRequestException()).status).toBe(400);
    expect(toErrorResponse(new PayloadTooLargeException()).body.error.code).toBe('EVS.5400');
    expect(toErrorResponse(new HttpException('x', 401)).body.error.code).toBe('EVS.5401');
    expect(toErrorResponse(new HttpException('x', 502))).toMatchObject({ status: 500, unexpected: true });
  });

  it('answers anything else with 500 and the catalogue message only', () => {
    const response = toErrorResponse(new Error('constraint failed: secret 10.0.0.1:5432'));
    expect(response).toEqual({
      status: 500,
      body: { error: { code: 'EVS.5500', message: ERROR_CATALOGUE.Internal.message } },
      unexpected: true,
    });
  });

  it('answers a database that is away with 503, saying nothing about it', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' });
    for (const err of [new DatabaseUnavailableError('readModel', refused), refused]) {
      const response = toErrorResponse(err);
      expect(response).toMatchObject({ status: 503, unexpected: false });
      expect(JSON.stringify(response.body)).not.toMatch(/5432|ECONNREFUSED|readModel/);
    }
  });
});
