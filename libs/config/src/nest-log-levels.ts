import type { LogLevel } from '@nestjs/common';
import type { AppConfig } from './config';

/** LOG_LEVEL's pino-style names against Nest's, most severe first. */
const LADDER: [AppConfig['logLevel'], LogLevel][] = [
  ['fatal', 'fatal'],
  ['error', 'error'],
  ['warn', 'warn'],
  ['info', 'log'],
  ['debug', 'debug'],
  ['trace', 'verbose'],
];

/** Nest's levels for the configured level: that level and everything more severe; none for silent. */
export function nestLogLevels(level: AppConfig['logLevel']): LogLevel[] {
  const upTo = LADDER.findIndex(([name]) => name === level);
  return LADDER.slice(0, upTo + 1).map(([, nest]) => nest);
}

/** What NestFactory takes as `logger`: the levels, or false to log nothing at all. */
export function nestLogger(level: AppConfig['logLevel']): LogLevel[] | false {
  const levels = nestLogLevels(level);
  return levels.length > 0 ? levels : false;
}
