/**
 * One place that builds KafkaJS clients, so every client logs through Nest's
 * Logger (never console) at a level derived from the app's LOG_LEVEL.
 */
import { Logger, type LoggerService } from '@nestjs/common';
import { Kafka, logLevel, type LogEntry, type logCreator, type RetryOptions } from 'kafkajs';
import type { AppConfig } from '../../config/src/config';
import './request-queue-idle-fix';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  /** The app's LOG_LEVEL; KafkaJS's own info chatter shows only at debug. Default: info. */
  logLevel?: AppConfig['logLevel'];
  logger?: LoggerService;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  retry?: RetryOptions;
}

export function kafkaLogLevel(level: AppConfig['logLevel']): logLevel {
  switch (level) {
    case 'trace':
      return logLevel.DEBUG;
    case 'debug':
      return logLevel.INFO;
    case 'info':
    case 'warn':
      return logLevel.WARN;
    case 'error':
    case 'fatal':
      return logLevel.ERROR;
    case 'silent':
      return logLevel.NOTHING;
  }
}

/** A KafkaJS log creator writing to a Nest logger. */
export function nestLogCreator(logger: LoggerService): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _logger, stack: _stack, ...extra } = log;
      const details = Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
      const line = `${namespace ? `${namespace}: ` : ''}${String(message)}${details}`;
      // KafkaJS logs every error response at ERROR before its retrier (or the
      // caller, who gets the error thrown) deals with it, e.g. "coordinator
      // is loading" right after a broker start: a warning, not an error.
      const handledResponse = namespace === 'Connection' && String(message).startsWith('Response ');
      switch (handledResponse && level === logLevel.ERROR ? logLevel.WARN : level) {
        case logLevel.ERROR:
        case logLevel.NOTHING:
          logger.error(line);
          break;
        case logLevel.WARN:
          logger.warn(line);
          break;
        case logLevel.INFO:
          logger.log(line);
          break;
        default:
          logger.debug?.(line);
      }
    };
}

export function createKafkaClient(options: KafkaClientOptions): Kafka {
  if (options.brokers.length === 0) {
    throw new Error('KAFKA_BROKERS names no broker');
  }
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: kafkaLogLevel(options.logLevel ?? 'info'),
    logCreator: nestLogCreator(options.logger ?? new Logger('KafkaJS')),
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30000,
    ...(options.retry ? { retry: options.retry } : {}),
  });
}
