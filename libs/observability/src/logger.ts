/**
 * The one log format of every process: a line of JSON per record, written
 * by pino to stdout (which infra/ appends to .data/<env>/logs/<app>.log).
 *
 *   {"level":"info","time":"2026-05-04T09:12:03.120Z","service":"evs-gateway","pid":4242,
 *    "trace_id":"…","span_id":"…","request_id":"req-…","context":"HttpRequest","msg":"…"}
 *
 * `level` is the name, not pino's number, so a grep or a log pipeline reads
 * it without a table; `time` is ISO 8601 in UTC. `trace_id` and `span_id`
 * are those of the OpenTelemetry span active where the line is made (none
 * outside a span or with tracing off), and the fields of withLogFields (the
 * gateway's `request_id`) are added the same way.
 */
import pino, { type DestinationStream, type LevelWithSilent, type Logger } from 'pino';
import { currentLogFields } from './log-fields';
import { activeTraceIds } from './trace-ids';

export type { Logger as PinoLogger } from 'pino';

/** LOG_LEVEL's values, pino's own names. */
export type LogLevelName = LevelWithSilent;

export const REDACTED = '[REDACTED]';

/**
 * Field names that hold a secret wherever they appear: a transfer's auth key
 * (as the API spells it and as the code does), credentials in headers
 * (lower case, as Node gives header names), an access key's secret key, and
 * the generic names.
 */
const SECRET_KEYS = [
  'auth_key',
  'authKey',
  'authorization',
  'x-auth-token',
  'password',
  'secret',
  'secret_key',
  'secretKey',
  'token',
  'access_token',
] as const;

/** A path segment in pino's redact syntax: a plain name, or a bracketed one for "x-auth-token". */
const segment = (key: string): string => (/^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`);
const under = (parent: string, key: string): string => `${parent}${key.startsWith('[') ? '' : '.'}${key}`;

/**
 * Where pino replaces a value with [REDACTED] before the line is written.
 * Each secret key at the top and one level down (`{ transfer: { auth_key } }`,
 * `{ headers: { authorization } }`), the auth key two levels down, and the
 * deeper shapes a request or an error carries. pino's redaction cannot say
 * "at any depth": every wildcard level is a path per key, and each costs on
 * every line (measured here: about 1.5 µs per wildcard path, against 2-4 µs
 * for a whole line without), so the list stops at what code here could log.
 * A message string is never searched: lines name ids, never secrets.
 */
export const REDACTED_PATHS: readonly string[] = [
  ...SECRET_KEYS.map(segment),
  ...SECRET_KEYS.map((key) => under('*', segment(key))),
  '*.*.auth_key',
  '*.*.authKey',
  ...['req.body', 'request.body'].flatMap((body) =>
    ['transfer', 'accept'].map((member) => `${body}.${member}.auth_key`),
  ),
  ...['req.headers', 'request.headers', 'err.config.headers', 'err.request.headers'].flatMap((headers) =>
    ['authorization', 'x-auth-token'].map((name) => under(headers, segment(name))),
  ),
];

export interface LoggerOptions {
  /** The process: evs-gateway, evs-worker, evs-inventory, evs-billing, evs-audit. */
  service: string;
  level: LogLevelName;
  /** Where lines go; stdout, written synchronously, unless a test gives its own. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      messageKey: 'msg',
      // Evaluated as each line is made, so it is the span and request of that moment.
      // A field the line itself sets wins over these (pino's default merge).
      mixin: () => ({ ...currentLogFields(), ...activeTraceIds() }),
      redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
      serializers: { err: pino.stdSerializers.err },
    },
    // Synchronous: a process that logs a fatal line and exits at once must not lose the line.
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
