import { context, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, type LogLevelName } from './logger';
import { withLogFields } from './log-fields';
import { useRegisteredTracer } from './registered-tracer.test-harness';

/** A logger writing into an array, one parsed record per line, as a log reader sees them. */
function capture(level: LogLevelName = 'info') {
  const lines: string[] = [];
  const logger = createLogger({ service: 'evs-test', level, destination: { write: (line: string) => void lines.push(line) } });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

describe('the log format', () => {
  it('writes one JSON object per line: level by name, ISO time, service, message', () => {
    const { logger, lines, records } = capture();
    logger.info({ transfer_id: 't-1' }, 'transfer created');
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(lines[0].trimEnd()).not.toContain('\n');
    const [record] = records();
    expect(record).toMatchObject({ level: 'info', service: 'evs-test', transfer_id: 't-1', msg: 'transfer created' });
    expect(record.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('keeps what is below LOG_LEVEL out, and writes nothing at all when silent', () => {
    const warn = capture('warn');
    warn.logger.info('not shown');
    warn.logger.warn('shown');
    expect(warn.records().map((r) => r.msg)).toEqual(['shown']);

    const silent = capture('silent');
    silent.logger.fatal('nothing');
    expect(silent.lines).toEqual([]);
  });

  it('writes an error with its type, message and stack', () => {
    const { logger, records } = capture();
    logger.error({ err: new TypeError('boom') }, 'failed');
    const [record] = records();
    expect(record.err).toMatchObject({ type: 'TypeError', message: 'boom', stack: expect.stringContaining('TypeError: boom') });
  });
});

describe('trace ids', () => {
  useRegisteredTracer();

  it('puts trace_id and span_id of the active span on lines made inside it, across awaits', async () => {
    const { logger, records } = capture();
    const tracer = trace.getTracer('logger-spec');
    let ids = { traceId: '', spanId: '' };
    await tracer.startActiveSpan('handle request', async (span) => {
      ids = span.spanContext();
      logger.info('before an await');
      await new Promise((resolve) => setTimeout(resolve, 1));
      logger.info('after an await');
      span.end();
    });
    logger.info('after the span');

    const [before, after, outside] = records();
    expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
    for (const inside of [before, after]) expect(inside).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId });
    expect(outside).not.toHaveProperty('trace_id');
    expect(outside).not.toHaveProperty('span_id');
  });

  it('writes none with tracing off, where spans are the API’s no-ops', () => {
    const { logger, records } = capture();
    const noop = trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 });
    context.with(trace.setSpan(context.active(), noop), () => logger.info('in a no-op span'));
    expect(records()[0]).not.toHaveProperty('trace_id');
  });
});

describe('fields of the unit of work', () => {
  it('adds the request id to every line made within it, and to none outside', async () => {
    const { logger, records } = capture();
    await withLogFields({ request_id: 'req-1' }, async () => {
      logger.info('inside');
      await Promise.resolve();
      logger.info({ transfer_id: 't-1' }, 'deeper');
    });
    logger.info('outside');
    expect(records().map((r) => r.request_id)).toEqual(['req-1', 'req-1', undefined]);
  });

  it('lets a line name its own value over the one in force', () => {
    const { logger, records } = capture();
    withLogFields({ request_id: 'req-outer' }, () => logger.info({ request_id: 'req-own' }, 'own'));
    expect(records()[0].request_id).toBe('req-own');
  });
});

describe('redaction', () => {
  const AUTH_KEY = '9f3c1a7b2e4d6c80';

  it('writes [REDACTED] for an auth key at the top, one and two levels down, whatever its spelling', () => {
    const { logger, lines, records } = capture();
    logger.info({ auth_key: AUTH_KEY }, 'top');
    logger.info({ transfer: { id: 't-1', auth_key: AUTH_KEY } }, 'one down');
    logger.info({ request: { accept: { authKey: AUTH_KEY } } }, 'two down');
    logger.info({ req: { body: { accept: { auth_key: AUTH_KEY } } } }, 'a request body');
    expect(lines.join('')).not.toContain(AUTH_KEY);
    const [top, one, two, body] = records();
    expect(top.auth_key).toBe(REDACTED);
    expect(one.transfer).toEqual({ id: 't-1', auth_key: REDACTED });
    expect(two.request).toEqual({ accept: { authKey: REDACTED } });
    expect(body.req).toEqual({ body: { accept: { auth_key: REDACTED } } });
  });

  it('redacts credentials in headers and the generic secret fields, and leaves the rest', () => {
    const { logger, lines, records } = capture();
    logger.info(
      { headers: { authorization: 'Bearer abc.def', 'x-auth-token': 'tok-123', 'content-type': 'application/json' } },
      'headers',
    );
    logger.info({ req: { headers: { authorization: 'Bearer abc.def', 'x-auth-token': 'tok-123' } } }, 'request headers');
    logger.info({ password: 'pw-1', secret: 'sk-1', token: 'tok-123', user: { password: 'pw-1' }, secret_key: 'sk-1' }, 'fields');
    const text = lines.join('');
    for (const secret of ['abc.def', 'tok-123', 'pw-1', 'sk-1']) expect(text).not.toContain(secret);
    const [headers, requestHeaders, fields] = records();
    expect(headers.headers).toEqual({ authorization: REDACTED, 'x-auth-token': REDACTED, 'content-type': 'application/json' });
    expect(requestHeaders.req).toEqual({ headers: { authorization: REDACTED, 'x-auth-token': REDACTED } });
    expect(fields).toMatchObject({ password: REDACTED, secret: REDACTED, token: REDACTED, user: { password: REDACTED } });
  });

  it('does not change the object the caller logged', () => {
    const { logger } = capture();
    const body = { transfer: { auth_key: AUTH_KEY } };
    logger.info(body, 'logged');
    expect(body.transfer.auth_key).toBe(AUTH_KEY);
  });
});
