/**
 * Temporal's Logger over pino, installed as the Runtime's logger: the
 * SDK's own lines (worker state, activity failures), those of workflow and
 * activity code (`log` from @temporalio/workflow and @temporalio/activity),
 * and, with log forwarding on, the Rust core's, all become records of the
 * process's log in its one format.
 *
 * The SDK's metadata becomes fields as it comes (workflowId, runId,
 * activityType, attempt, sdkComponent, and the core's target), with three
 * changes: a transfer's workflow id also gives `transfer_id`, the field every
 * other process logs it under; `error` becomes `err`, which pino writes
 * with its stack; and the activity's task token, a capability to complete
 * the activity, is left out.
 *
 * With forwarding on, the SDK holds every line for about 100 ms to sort
 * them with the core's, so lines arrive here outside the span that made
 * them: trace ids that matter are put in the metadata where the line is
 * made (activities/activity-log.ts).
 */
import type { Logger as TemporalLogger, LogLevel as TemporalLogLevel, LogMetadata } from '@temporalio/common';
import type { Level } from 'pino';
import type { LogLevelName, PinoLogger } from '../../../libs/observability/src/logger';
import { transferIdOfWorkflowId } from '../../../libs/temporal/src/transfer.definitions';

const PINO_LEVEL: Record<TemporalLogLevel, Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

export class TemporalPinoLogger implements TemporalLogger {
  constructor(private readonly logger: PinoLogger) {}

  log(level: TemporalLogLevel, message: string, meta?: LogMetadata): void {
    const pinoLevel = PINO_LEVEL[level] ?? 'info';
    if (!this.logger.isLevelEnabled(pinoLevel)) return;
    this.logger[pinoLevel](fieldsOf(meta), message);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }

  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }

  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }

  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }

  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

function fieldsOf(meta: LogMetadata | undefined): Record<string, unknown> {
  if (meta === undefined) return {};
  // String keys only: the SDK's own timestamp rides under a symbol, and pino stamps its own time.
  const { error, taskToken: _taskToken, ...fields } = Object.fromEntries(Object.entries(meta)) as Record<string, unknown>;
  if (typeof fields.workflowId === 'string' && fields.transfer_id === undefined) {
    const transferId = transferIdOfWorkflowId(fields.workflowId);
    if (transferId !== null) fields.transfer_id = transferId;
  }
  if (error !== undefined) fields.err = error;
  return fields;
}

/**
 * The Rust core's level for LOG_LEVEL: the same, so LOG_LEVEL=debug shows
 * the core's polls and activations too (many lines). Its dependencies
 * (gRPC, HTTP) stay at ERROR, as the SDK has them by default.
 */
export function coreLogLevel(level: LogLevelName): TemporalLogLevel {
  switch (level) {
    case 'trace':
      return 'TRACE';
    case 'debug':
      return 'DEBUG';
    case 'info':
      return 'INFO';
    case 'warn':
      return 'WARN';
    default:
      // fatal, error, silent: the core has nothing quieter than ERROR; pino drops the rest.
      return 'ERROR';
  }
}
