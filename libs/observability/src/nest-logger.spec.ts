import { ConsoleLogger, Logger } from '@nestjs/common';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, type LogLevelName } from './logger';
import { PinoNestLogger } from './nest-logger';

let lines: string[] = [];
const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

/** Nest's Logger routed to a capturing pino logger, as main.ts routes it to stdout. */
function install(level: LogLevelName = 'trace'): void {
  const pino = createLogger({ service: 'evs-test', level, destination: { write: (line: string) => void lines.push(line) } });
  Logger.overrideLogger(new PinoNestLogger(pino));
}

beforeEach(() => {
  lines = [];
  install();
});

afterAll(() => Logger.overrideLogger(new ConsoleLogger()));

describe('Nest’s Logger through pino', () => {
  it('turns an existing `new Logger(context).log(text)` into a JSON record with its context', () => {
    new Logger('Gateway').log('listening on http://127.0.0.1:8080 (API docs at /docs)');
    expect(records()).toEqual([
      expect.objectContaining({
        level: 'info',
        service: 'evs-test',
        context: 'Gateway',
        msg: 'listening on http://127.0.0.1:8080 (API docs at /docs)',
      }),
    ]);
  });

  it('merges an object message into the record, its msg the message', () => {
    new Logger('TransferWorkflows').warn({ msg: 'accept of transfer t-1: no outcome', transfer_id: 't-1', disk_id: 'd-1' });
    expect(records()[0]).toMatchObject({
      level: 'warn',
      context: 'TransferWorkflows',
      msg: 'accept of transfer t-1: no outcome',
      transfer_id: 't-1',
      disk_id: 'd-1',
    });
  });

  it('maps every Nest level to pino’s: log info, verbose trace, fatal fatal', () => {
    const logger = new Logger('Levels');
    logger.log('l');
    logger.error('e');
    logger.warn('w');
    logger.debug('d');
    logger.verbose('v');
    logger.fatal('f');
    expect(records().map((r) => [r.msg, r.level])).toEqual([
      ['l', 'info'],
      ['e', 'error'],
      ['w', 'warn'],
      ['d', 'debug'],
      ['v', 'trace'],
      ['f', 'fatal'],
    ]);
  });

  it('writes an Error as err with its stack, its message the line’s', () => {
    new Logger('Inventory').fatal(new Error('database file is locked'));
    const [record] = records();
    expect(record).toMatchObject({ level: 'fatal', context: 'Inventory', msg: 'database file is locked' });
    expect(record.err).toMatchObject({ type: 'Error', message: 'database file is locked', stack: expect.stringContaining('at ') });
  });

  it('keeps a stack passed the way Nest passes it (message, stack, context) as err.stack, on one line', () => {
    const error = new Error('shutdown hook failed');
    Logger.error('Error during shutdown', error.stack, 'NestApplicationContext');
    Logger.error(error, error.stack);
    expect(lines.every((line) => line.trimEnd().split('\n').length === 1)).toBe(true);
    const [withContext, withoutContext] = records();
    expect(withContext).toMatchObject({ context: 'NestApplicationContext', msg: 'Error during shutdown', err: { stack: error.stack } });
    expect(withoutContext).toMatchObject({ msg: 'shutdown hook failed', err: { stack: error.stack } });
    expect(withoutContext).not.toHaveProperty('context');
  });

  it('writes an error() without a stack with none', () => {
    new Logger('Auth').error('credentials could not be checked: JWKS unreachable');
    const [record] = records();
    expect(record).toMatchObject({ level: 'error', context: 'Auth', msg: 'credentials could not be checked: JWKS unreachable' });
    expect(record).not.toHaveProperty('err');
  });

  it('writes nothing below the configured level', () => {
    lines = [];
    install('warn');
    const logger = new Logger('Quiet');
    logger.log('not written');
    logger.debug('not written');
    logger.warn('written');
    expect(records().map((r) => r.msg)).toEqual(['written']);
  });
});
