import { describe, expect, it } from 'vitest';
import { nestLogger, nestLogLevels } from './nest-log-levels';

describe('nestLogLevels', () => {
  it('keeps the configured level and every more severe one, in Nest’s names', () => {
    expect(nestLogLevels('info')).toEqual(['fatal', 'error', 'warn', 'log']);
    expect(nestLogLevels('trace')).toEqual(['fatal', 'error', 'warn', 'log', 'debug', 'verbose']);
    expect(nestLogLevels('fatal')).toEqual(['fatal']);
  });

  it('logs nothing when silent', () => {
    expect(nestLogLevels('silent')).toEqual([]);
    expect(nestLogger('silent')).toBe(false);
    expect(nestLogger('warn')).toEqual(['fatal', 'error', 'warn']);
  });
});
