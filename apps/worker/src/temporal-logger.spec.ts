import { MockActivityEnvironment } from '@temporalio/testing';
import { makeTelemetryFilterString } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createLogger, type LogLevelName } from '../../../libs/observability/src/logger';
import { transferWorkflowId } from '../../../libs/temporal/src/transfer.definitions';
import { coreLogLevel, TemporalPinoLogger } from './temporal-logger';

function capture(level: LogLevelName = 'trace') {
  const lines: string[] = [];
  const pino = createLogger({ service: 'evs-worker', level, destination: { write: (line: string) => void lines.push(line) } });
  const logger = new TemporalPinoLogger(pino.child({ component: 'temporal' }));
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('Temporal’s logger over pino', () => {
  it('writes each of Temporal’s levels at pino’s level of the same name', () => {
    const { logger, records } = capture();
    logger.trace('t');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    logger.log('WARN', 'via log()');
    expect(records().map((r) => [r.msg, r.level])).toEqual([
      ['t', 'trace'],
      ['d', 'debug'],
      ['i', 'info'],
      ['w', 'warn'],
      ['e', 'error'],
      ['via log()', 'warn'],
    ]);
    expect(records().every((r) => r.component === 'temporal' && r.service === 'evs-worker')).toBe(true);
  });

  it('follows LOG_LEVEL: at warn, the SDK’s info lines are not written', () => {
    const { logger, records } = capture('warn');
    logger.info('Worker state changed', { state: 'RUNNING' });
    logger.warn('Activity failed');
    expect(records().map((r) => r.msg)).toEqual(['Activity failed']);
  });

  it('writes the SDK’s metadata as fields, the transfer id from the workflow id, the error as err, and no task token', () => {
    const { logger, lines, records } = capture();
    logger.warn('Activity failed', {
      sdkComponent: 'worker',
      workflowId: transferWorkflowId('0c5e2f4a-1111-4000-8000-000000000001'),
      activityType: 'reassignDisk',
      attempt: 3,
      taskToken: 'Q2Fw-capability',
      error: new Error('inventory answered 503'),
      [Symbol.for('log_timestamp')]: 1_700_000_000_000_000_000n,
    });
    expect(lines.join('')).not.toContain('Q2Fw-capability');
    const [record] = records();
    expect(record).toMatchObject({
      level: 'warn',
      msg: 'Activity failed',
      sdkComponent: 'worker',
      activityType: 'reassignDisk',
      attempt: 3,
      transfer_id: '0c5e2f4a-1111-4000-8000-000000000001',
      err: { message: 'inventory answered 503', stack: expect.stringContaining('Error: inventory answered 503') },
    });
    expect(record).not.toHaveProperty('taskToken');
    expect(record).not.toHaveProperty('error');
  });

  it('gives no transfer id for a workflow that is not a transfer’s (the reconciler’s runs)', () => {
    const { logger, records } = capture();
    logger.info('Workflow completed', { workflowId: 'evs-reconciler-run-2026-05-04T09:00:00Z' });
    expect(records()[0]).not.toHaveProperty('transfer_id');
  });

  it('logs an activity the SDK saw fail with the transfer it belongs to', async () => {
    const { logger, records } = capture();
    const env = new MockActivityEnvironment(
      { activityType: 'lockDiskForTransfer', workflowExecution: { workflowId: transferWorkflowId('t-42'), runId: 'r-1' } },
      { logger },
    );
    await expect(
      env.run(async () => {
        throw new Error('inventory unreachable');
      }),
    ).rejects.toThrow('inventory unreachable');
    const failed = records().find((r) => r.msg === 'Activity failed');
    expect(failed).toMatchObject({
      level: 'warn',
      transfer_id: 't-42',
      workflowId: 'evs-transfer-t-42',
      activityType: 'lockDiskForTransfer',
      err: { message: 'inventory unreachable' },
    });
  });
});

describe('the Rust core’s log filter', () => {
  it('follows LOG_LEVEL, down to ERROR for the quiet levels', () => {
    expect((['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const).map(coreLogLevel)).toEqual([
      'TRACE',
      'DEBUG',
      'INFO',
      'WARN',
      'ERROR',
      'ERROR',
      'ERROR',
    ]);
  });

  it('sets the core’s crates to that level and leaves its dependencies at ERROR', () => {
    const filter = makeTelemetryFilterString({ core: coreLogLevel('info') });
    expect(filter).toContain('temporalio_sdk_core=INFO');
    expect(filter.startsWith('ERROR,')).toBe(true);
  });
});
