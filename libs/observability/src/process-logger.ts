/**
 * The process's root logger, made first thing in main.ts: before the config
 * is read, so even a bad LOG_LEVEL or DATA_DIR is reported as a JSON line,
 * and before Nest starts, so its own lines are too. LOG_LEVEL applies once
 * the config is valid (`logger.level = config.logLevel`).
 *
 * Nest's Logger is pointed at it here (Logger.overrideLogger), and main.ts
 * hands the same adapter to NestFactory, which would otherwise install its
 * own. The Temporal worker's runtime takes a child of processLogger().
 */
import { Logger } from '@nestjs/common';
import { createLogger, type LogLevelName, type PinoLogger } from './logger';
import { PinoNestLogger } from './nest-logger';

let root: PinoLogger | null = null;

export interface ProcessLogger {
  logger: PinoLogger;
  /** For NestFactory.create / createApplicationContext `{ logger }`. */
  nest: PinoNestLogger;
}

export function installProcessLogger(service: string, level: LogLevelName = 'info'): ProcessLogger {
  root = createLogger({ service, level });
  const nest = new PinoNestLogger(root);
  Logger.overrideLogger(nest);
  return { logger: root, nest };
}

/** The installed root logger; one for an unnamed process when main.ts installed none (a script, a test). */
export function processLogger(): PinoLogger {
  root ??= createLogger({ service: 'evs', level: 'info' });
  return root;
}
