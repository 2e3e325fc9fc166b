import type { Client } from '@temporalio/client';
import {
  ApplicationFailure,
  TerminatedFailure,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { describe, expect, it, vi } from 'vitest';
import { DomainError } from '../../../../libs/domain/src/errors';
import { DEFAULT_TRANSFER_POLICY, type TransferRequest } from '../../../../libs/domain/src/transfer';
import {
  acceptUpdate,
  awaitCreationUpdate,
  deleteUpdate,
  SEARCH_ATTRIBUTES,
  TRANSFER_TASK_QUEUE,
  TRANSFER_WORKFLOW_REVISION,
  TRANSFER_WORKFLOW_TYPE,
} from '../../../../libs/temporal/src/transfer.definitions';
import { TemporalTransferWorkflows } from './temporal-transfer-workflows.adapter';
import { OUTCOME_UNKNOWN_MESSAGES } from './workflow-errors';

const request: TransferRequest = {
  transferId: '6f1c2a4e-2b7d-4c1e-9a3f-5d8e7b6a4c21',
  volumeId: '0b6c1a8e-0c2c-4a55-9d9e-3f1c7a8f2b10',
  name: 't1',
  owner: { projectId: 'project-a', userId: 'alice', requestId: 'req-1' },
  createdAtMs: 1_700_000_000_000,
  authKeyHash: 'ab'.repeat(32),
  policy: DEFAULT_TRANSFER_POLICY,
};

const silent = { log: vi.fn(), error: vi.fn(), warn: vi.fn() };

/** The slice of Client the adapter uses, scripted per test. */
type AnyFn = (...args: unknown[]) => unknown;

function fakeClient(overrides: { executeUpdateWithStart?: AnyFn; executeUpdate?: AnyFn; result?: AnyFn } = {}) {
  const executeUpdate = vi.fn<AnyFn>(overrides.executeUpdate ?? (() => undefined));
  const result = vi.fn<AnyFn>(overrides.result ?? (() => undefined));
  const getHandle = vi.fn((_workflowId: string) => ({ executeUpdate, result }));
  const executeUpdateWithStart = vi.fn<AnyFn>(overrides.executeUpdateWithStart ?? (() => undefined));
  const withDeadline = vi.fn((_deadline: number, fn: () => Promise<unknown>) => fn());
  const client = { withDeadline, workflow: { executeUpdateWithStart, getHandle } } as unknown as Client;
  return { client, executeUpdate, getHandle, executeUpdateWithStart, withDeadline };
}

describe('TemporalTransferWorkflows', () => {
  it('creates with update-with-start: derived workflow id, FAIL on conflict, search attributes, summary', async () => {
    const fake = fakeClient({ executeUpdateWithStart: async () => ({ transferId: request.transferId, createdAtMs: request.createdAtMs }) });
    const workflows = new TemporalTransferWorkflows(fake.client, { updateTimeoutMs: 5000, logger: silent });
    const before = Date.now();
    await expect(workflows.create(request)).resolves.toEqual({ transferId: request.transferId, createdAtMs: request.createdAtMs });

    const [update, options] = fake.executeUpdateWithStart.mock.calls[0] as unknown as [
      unknown,
      { startWorkflowOperation: WithStartWorkflowOperation<never>; updateId: string },
    ];
    expect(update).toBe(awaitCreationUpdate);
    expect(options.updateId).toBe('req-1');
    const start = options.startWorkflowOperation;
    expect(start).toBeInstanceOf(WithStartWorkflowOperation);
    expect(start.workflowTypeOrFunc).toBe(TRANSFER_WORKFLOW_TYPE);
    expect(start.options).toMatchObject({
      workflowId: `evs-transfer-${request.transferId}`,
      taskQueue: TRANSFER_TASK_QUEUE,
      args: [request, { revision: TRANSFER_WORKFLOW_REVISION }],
      workflowIdConflictPolicy: 'FAIL',
      staticSummary: `Transfer of disk ${request.volumeId} from project project-a`,
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.transferId, value: request.transferId },
        { key: SEARCH_ATTRIBUTES.diskId, value: request.volumeId },
        { key: SEARCH_ATTRIBUTES.sourceProjectId, value: 'project-a' },
        { key: SEARCH_ATTRIBUTES.state, value: 'validating' },
      ],
    });
    const deadline = fake.withDeadline.mock.calls[0][0];
    expect(deadline).toBeGreaterThanOrEqual(before + 5000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 5000);
  });

  it("passes the configured validation bound with the revision in the workflow's options", async () => {
    const fake = fakeClient({ executeUpdateWithStart: async () => ({ transferId: request.transferId, createdAtMs: request.createdAtMs }) });
    const workflows = new TemporalTransferWorkflows(fake.client, { updateTimeoutMs: 5000, validationTimeoutMs: 4000, logger: silent });
    await workflows.create(request);
    const [, options] = fake.executeUpdateWithStart.mock.calls[0] as unknown as [unknown, { startWorkflowOperation: WithStartWorkflowOperation<never> }];
    expect(options.startWorkflowOperation.options.args).toEqual([request, { revision: TRANSFER_WORKFLOW_REVISION, validationTimeoutMs: 4000 }]);
  });

  it('sends the create’s own facts with the update, for a retried create to be compared against', async () => {
    const fake = fakeClient({ executeUpdateWithStart: async () => ({ transferId: request.transferId, createdAtMs: request.createdAtMs }) });
    const workflows = new TemporalTransferWorkflows(fake.client, { updateTimeoutMs: 5000, logger: silent });
    await workflows.create(request);
    const [, options] = fake.executeUpdateWithStart.mock.calls[0] as unknown as [unknown, { args: unknown[] }];
    expect(options.args).toEqual([{ volumeId: request.volumeId, name: 't1' }]);
  });

  it('joins the running workflow of an idempotent create, and never starts a closed one again', async () => {
    const fake = fakeClient({ executeUpdateWithStart: async () => ({ transferId: request.transferId, createdAtMs: request.createdAtMs }) });
    const workflows = new TemporalTransferWorkflows(fake.client, { updateTimeoutMs: 5000, logger: silent });
    await workflows.create(request, { idempotent: true });
    const [, options] = fake.executeUpdateWithStart.mock.calls[0] as unknown as [unknown, { startWorkflowOperation: WithStartWorkflowOperation<never> }];
    expect(options.startWorkflowOperation.options).toMatchObject({
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  });

  it.each([
    ['refused at create', { status: 'rejected', reason: 'DiskEncrypted' }, new DomainError('DiskEncrypted')],
    ['accepted', { status: 'accepted', reason: null }, 'IdempotentTransferEnded'],
    ['expired', { status: 'expired', reason: null }, 'IdempotentTransferEnded'],
  ] as const)('answers an idempotent create whose workflow closed %s with what it ended as', async (_what, result, expected) => {
    const closed = new WorkflowExecutionAlreadyStartedError('Workflow execution already started', 'evs-transfer-x', TRANSFER_WORKFLOW_TYPE);
    const fake = fakeClient({
      executeUpdateWithStart: async () => Promise.reject(closed),
      result: async () => ({ transferId: request.transferId, ...result }),
    });
    const workflows = new TemporalTransferWorkflows(fake.client, { updateTimeoutMs: 5000, logger: silent });
    const error = (await workflows.create(request, { idempotent: true }).catch((e: unknown) => e)) as DomainError;
    expect(fake.getHandle).toHaveBeenCalledWith(`evs-transfer-${request.transferId}`);
    if (typeof expected === 'string') {
      expect(error.errorName).toBe(expected);
      expect(error.message).toContain(`(${result.status})`);
    } else {
      expect(error).toEqual(expected);
    }
  });

  it('answers an idempotent create whose workflow was terminated as ended', async () => {
    const fake = fakeClient({
      executeUpdateWithStart: async () =>
        Promise.reject(new WorkflowExecutionAlreadyStartedError('already started', 'evs-transfer-x', TRANSFER_WORKFLOW_TYPE)),
      result: async () => Promise.reject(new WorkflowFailedError('terminated', new TerminatedFailure('by operator'), 'NON_RETRYABLE_FAILURE')),
    });
    const workflows = new TemporalTransferWorkflows(fake.client, { updateTimeoutMs: 5000, logger: silent });
    await expect(workflows.create(request, { idempotent: true })).rejects.toEqual(new DomainError('IdempotentTransferEnded'));
  });

  it('accepts and deletes with updates on the transfer’s workflow', async () => {
    const fake = fakeClient({ executeUpdate: async () => ({ transferId: request.transferId, volumeId: request.volumeId, name: 't1' }) });
    const workflows = new TemporalTransferWorkflows(fake.client, { updateTimeoutMs: 5000, logger: silent });
    const actor = { projectId: 'project-b', userId: 'bob', requestId: 'req-2' };
    await workflows.accept(request.transferId, { actor, authKeyHash: 'cd'.repeat(32) });
    await workflows.delete(request.transferId, { actor });
    expect(fake.getHandle).toHaveBeenCalledWith(`evs-transfer-${request.transferId}`);
    expect(fake.executeUpdate.mock.calls).toEqual([
      [acceptUpdate, { args: [{ actor, authKeyHash: 'cd'.repeat(32) }], updateId: 'req-2' }],
      [deleteUpdate, { args: [{ actor }], updateId: 'req-2' }],
    ]);
  });

  it('turns the workflow’s refusal into the DomainError it names', async () => {
    const refusal = new WorkflowUpdateFailedError(
      'Workflow Update failed',
      ApplicationFailure.create({ type: 'DiskHasSnapshots', nonRetryable: true }),
    );
    const fake = fakeClient({ executeUpdateWithStart: async () => Promise.reject(refusal) });
    const workflows = new TemporalTransferWorkflows(fake.client, { updateTimeoutMs: 5000, logger: silent });
    await expect(workflows.create(request)).rejects.toEqual(new DomainError('DiskHasSnapshots'));
  });

  it('logs a refusal for an unreachable dependency as a refusal, not as a call without outcome', async () => {
    const refusal = new WorkflowUpdateFailedError(
      'Workflow Update failed',
      ApplicationFailure.create({ type: 'DependencyUnavailable', nonRetryable: true }),
    );
    const fake = fakeClient({ executeUpdateWithStart: async () => Promise.reject(refusal) });
    const logger = { log: vi.fn(), error: vi.fn(), warn: vi.fn() };
    const workflows = new TemporalTransferWorkflows(fake.client, { updateTimeoutMs: 5000, logger });
    await expect(workflows.create(request)).rejects.toEqual(new DomainError('DependencyUnavailable'));
    expect(logger.warn).toHaveBeenCalledWith({
      msg: `create of transfer ${request.transferId} refused: a dependency did not answer in time`,
      transfer_id: request.transferId,
      disk_id: request.volumeId,
      operation: 'create',
    });
  });

  it('gives up at its own deadline with 503 "may still complete", even if the call never settles', async () => {
    vi.useFakeTimers();
    try {
      const fake = fakeClient({ executeUpdate: () => new Promise(() => undefined) });
      const workflows = new TemporalTransferWorkflows(fake.client, { updateTimeoutMs: 1000, logger: silent });
      const outcome = workflows.delete(request.transferId, { actor: request.owner }).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(2100);
      const error = (await outcome) as DomainError;
      expect(error).toBeInstanceOf(DomainError);
      expect(error.errorName).toBe('DependencyUnavailable');
      expect(error.message).toBe(OUTCOME_UNKNOWN_MESSAGES.delete);
    } finally {
      vi.useRealTimers();
    }
  });
});
