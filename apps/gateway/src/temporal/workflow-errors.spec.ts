import {
  ApplicationFailure,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { DomainError, ERROR_CATALOGUE, type ErrorName } from '../../../../libs/domain/src/errors';
import { mapWorkflowError, OUTCOME_UNKNOWN_MESSAGES, WorkflowCallTimeout } from './workflow-errors';

/** What @grpc/grpc-js rejects with: an Error with code, details and metadata. */
function grpcError(code: number, details = 'grpc says no'): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: { internalRepr: new Map() } });
}

function updateFailure(type: string, details?: unknown): WorkflowUpdateFailedError {
  return new WorkflowUpdateFailedError(
    'Workflow Update failed',
    ApplicationFailure.create({ type, message: `refused: ${type}`, nonRetryable: true, details: details === undefined ? [] : [details] }),
  );
}

describe('mapWorkflowError', () => {
  it.each(Object.keys(ERROR_CATALOGUE) as ErrorName[])('rebuilds the workflow’s %s refusal', (name) => {
    const { error, unexpected } = mapWorkflowError(updateFailure(name), 'accept');
    expect(error).toBeInstanceOf(DomainError);
    expect(error.errorName).toBe(name);
    expect(error.message).toBe(ERROR_CATALOGUE[name].message);
    expect(unexpected).toBe(false);
  });

  it('keeps the details the workflow sent (retry-after, a more precise message)', () => {
    const { error } = mapWorkflowError(updateFailure('TooManyFailedAttempts', { retryAfterSeconds: 90, message: 'Locked for 90 s.' }), 'accept');
    expect(error.details).toEqual({ retryAfterSeconds: 90, message: 'Locked for 90 s.' });
    expect(error.message).toBe('Locked for 90 s.');
  });

  it('drops details that are not ErrorDetails', () => {
    const { error } = mapWorkflowError(updateFailure('TooManyFailedAttempts', { retryAfterSeconds: '90', message: 5, stack: 'x' }), 'accept');
    expect(error.details).toEqual({});
  });

  it('answers a failure type outside the catalogue with 500, logged', () => {
    expect(mapWorkflowError(updateFailure('TypeError'), 'create')).toMatchObject({ error: { errorName: 'Internal' }, unexpected: true });
    const notApplication = new WorkflowUpdateFailedError('Workflow Update failed', new Error('boom'));
    expect(mapWorkflowError(notApplication, 'create')).toMatchObject({ error: { errorName: 'Internal' }, unexpected: true });
  });

  it('answers a missing or completed workflow with TransferNotFound', () => {
    expect(mapWorkflowError(new WorkflowNotFoundError('workflow execution already completed', 'wf', undefined), 'accept').error.errorName).toBe(
      'TransferNotFound',
    );
    expect(mapWorkflowError(new ServiceError('x', { cause: grpcError(5) }), 'delete').error.errorName).toBe('TransferNotFound');
  });

  it.each([
    ['the gateway’s own timer', new WorkflowCallTimeout()],
    ['an update RPC timeout', new WorkflowUpdateRPCTimeoutOrCancelledError('timeout', { cause: grpcError(4) })],
    ['a gRPC deadline', grpcError(4)],
    ['a cancelled call', new ServiceError('x', { cause: grpcError(1) })],
  ])('answers %s with 503 saying the outcome may still complete', (_what, err) => {
    for (const op of ['create', 'accept', 'delete'] as const) {
      const { error } = mapWorkflowError(err, op);
      expect(error.errorName).toBe('DependencyUnavailable');
      expect(error.message).toBe(OUTCOME_UNKNOWN_MESSAGES[op]);
    }
  });

  it.each([
    ['server unreachable', new ServiceError('Failed to connect to Temporal server', { cause: grpcError(14) })],
    ['server overloaded', grpcError(8)],
    ['no gRPC status at all', new ServiceError('Unexpected error while making gRPC request', { cause: new Error('socket') })],
  ])('answers %s with 503, nothing changed', (_what, err) => {
    const { error } = mapWorkflowError(err, 'create');
    expect(error.errorName).toBe('DependencyUnavailable');
    expect(error.message).toBe(ERROR_CATALOGUE.DependencyUnavailable.message);
  });

  it('answers anything else with 500, logged', () => {
    expect(mapWorkflowError(new WorkflowExecutionAlreadyStartedError('started', 'wf', 'transferWorkflow'), 'create')).toMatchObject({
      error: { errorName: 'Internal' },
      unexpected: true,
    });
    expect(mapWorkflowError(grpcError(3, 'search attribute EvsTransferId is not defined'), 'create').error.errorName).toBe('Internal');
    expect(mapWorkflowError(new Error('?'), 'delete').error.errorName).toBe('Internal');
  });

  it('passes a DomainError through', () => {
    const err = new DomainError('TransferBusy');
    expect(mapWorkflowError(err, 'delete').error).toBe(err);
  });
});
