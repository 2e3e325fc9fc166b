/**
 * Nest's LoggerService over the pino logger, so every `new Logger('X')` in
 * the code, and Nest's own lines, become JSON records without a line of
 * theirs changing.
 *
 * Nest's Logger passes its context as the last argument, and for error()
 * a stack (or undefined) before it. What this makes of a call:
 *
 * - the context goes to `context`;
 * - a string message is `msg`; an Error is `err` (type, message, stack) with
 *   its message as `msg`; a plain object's fields are merged into the record,
 *   its `msg` (or `message`) becoming the message, so a caller can write
 *   `logger.log({ msg: 'accepted', transfer_id, disk_id })`;
 * - a stack string becomes `err.stack` when the record has no `err` yet;
 * - further plain objects are merged, further strings appended to `msg`.
 */
import type { LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';

type Fields = Record<string, unknown>;

/** What Nest's ConsoleLogger recognises as a stack trace. */
const STACK = /^(.)+\n\s+at .+:\d+:\d+/;

function isPlainObject(value: unknown): value is Fields {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const record: Fields = {};
    const texts: string[] = [];
    const rest = [...params];
    // The last string is Nest's context, unless it is the only argument and a stack (Logger.error(msg, stack)).
    const last = rest.at(-1);
    if (typeof last === 'string' && !(rest.length === 1 && STACK.test(last))) {
      record.context = last;
      rest.pop();
    }
    this.take(record, texts, message);
    for (const param of rest) {
      if (param === undefined) continue;
      if (typeof param === 'string' && STACK.test(param)) {
        record.err ??= { stack: param };
      } else {
        this.take(record, texts, param);
      }
    }
    this.logger[level](record, texts.join(' '));
  }

  /** One argument into the record: merged if it is a plain object, `err` if an Error, text otherwise. */
  private take(record: Fields, texts: string[], value: unknown): void {
    if (value instanceof Error) {
      record.err ??= value;
      texts.push(value.message);
    } else if (isPlainObject(value)) {
      const { msg, message, ...fields } = value;
      Object.assign(record, fields);
      const text = msg ?? message;
      if (text !== undefined) texts.push(asText(text));
    } else if (value !== undefined) {
      texts.push(asText(value));
    }
  }
}

/** Any other value as text: a string as it is, an array or class instance as JSON, the rest as String() has it. */
function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      // A cycle, or a bigint inside.
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}
