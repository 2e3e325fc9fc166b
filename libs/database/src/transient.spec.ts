import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, isTransientDatabaseError, withDatabaseRetry } from './transient';

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });
const noWait = async () => undefined;

describe('isTransientDatabaseError', () => {
  it.each(['40001', '40P01', '57P01', '08006', 'ECONNREFUSED', 'ECONNRESET', 'SQLITE_BUSY'])('%s is worth another try', (code) => {
    expect(isTransientDatabaseError(withCode(code))).toBe(true);
  });

  it('so is a connection pg reports lost without a code', () => {
    expect(isTransientDatabaseError(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it.each(['23505', '42P01', 'SQLITE_CONSTRAINT_PRIMARYKEY'])('%s would fail again', (code) => {
    expect(isTransientDatabaseError(withCode(code))).toBe(false);
  });
});

describe('withDatabaseRetry', () => {
  const policy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

  it('runs the work again after a transient error', async () => {
    let calls = 0;
    const result = await withDatabaseRetry('billing', async () => (++calls < 3 ? Promise.reject(withCode('40001')) : 'done'), policy, noWait);
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('gives up after the bound with DatabaseUnavailableError naming the store', async () => {
    let calls = 0;
    const failing = withDatabaseRetry('billing', async () => Promise.reject(withCode('ECONNREFUSED', `attempt ${++calls}`)), policy, noWait);
    await expect(failing).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(failing).rejects.toThrow(/billing store is unavailable/);
    expect(calls).toBe(3);
  });

  it('throws any other error at once', async () => {
    let calls = 0;
    const failing = withDatabaseRetry('billing', async () => Promise.reject(withCode('23505', `duplicate ${++calls}`)), policy, noWait);
    await expect(failing).rejects.toThrow('duplicate 1');
    expect(calls).toBe(1);
  });
});
