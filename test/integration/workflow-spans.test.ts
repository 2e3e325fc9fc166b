/**
 * A worker that exports no traces starts its workflow threads with a sampler
 * that records nothing (libs/temporal/src/workflow-tracing.ts): the spans
 * Temporal's interceptors make in the sandbox are neither recorded nor
 * shipped out to be dropped. Two workers in this process, each on a task
 * queue of its own, with the activities replaced, run the bundle and the
 * preload `npm run build` wrote, on the test stack's Temporal server; each
 * hands the spans its workflows ship out to a processor that counts them.
 */
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { transferableDisk } from '../../libs/domain/src/disk.fixtures';
import { DEFAULT_TRANSFER_POLICY, type TransferRequest } from '../../libs/domain/src/transfer';
import { awaitCreationUpdate, deleteUpdate, TRANSFER_WORKFLOW_TYPE, transferWorkflowId } from '../../libs/temporal/src/transfer.definitions';
import { ROOT_DIR } from '../support/stack';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const activities = {
  async lockDiskForTransfer(input: { diskId: string; projectId: string; transferId: string }) {
    return { ok: true, disk: transferableDisk({ id: input.diskId, projectId: input.projectId, status: 'awaiting-transfer', transferId: input.transferId }) };
  },
  async releaseDiskTransferLock() {
    return { released: true, disk: null };
  },
  async recordTransferPending() {},
  async recordTransferEnded() {},
  async enqueueEvents() {},
};

class SpanNames implements SpanProcessor {
  readonly names: string[] = [];
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.names.push(span.name);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

let running: TestWorker | undefined;

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** Creates a transfer on the worker's queue and deletes it, to its end. */
async function oneTransfer(harness: TestWorker): Promise<void> {
  const transferId = randomUUID();
  const owner = { projectId: 'spans-a', userId: 'alice', requestId: `req-${randomUUID()}` };
  const request: TransferRequest = {
    transferId,
    volumeId: randomUUID(),
    name: 'spans',
    owner,
    createdAtMs: Date.now(),
    authKeyHash: 'a'.repeat(64),
    policy: DEFAULT_TRANSFER_POLICY,
  };
  await harness.client.workflow.executeUpdateWithStart(awaitCreationUpdate, {
    startWorkflowOperation: new WithStartWorkflowOperation(TRANSFER_WORKFLOW_TYPE, {
      workflowId: transferWorkflowId(transferId),
      taskQueue: harness.taskQueue,
      args: [request],
      workflowIdConflictPolicy: 'FAIL',
    }),
  });
  const handle = harness.client.workflow.getHandle(transferWorkflowId(transferId));
  await handle.executeUpdate(deleteUpdate, { args: [{ actor: { ...owner, requestId: 'req-delete' } }] });
  expect(await handle.result()).toMatchObject({ status: 'deleted' });
}

it('records the workflow spans by default, and none in workflow threads started after recordNoWorkflowSpans', async () => {
  const recorded = new SpanNames();
  running = await startTestWorker('spans-on', activities, { spanProcessor: recorded });
  await oneTransfer(running);
  await running.stop();
  running = undefined;
  expect(recorded.names).toContain('RunWorkflow:transferWorkflow');

  // As the built worker calls it when it exports no traces: its threads preload the compiled switch.
  const built = createRequire(__filename)(path.join(ROOT_DIR, 'dist/libs/temporal/src/workflow-tracing.js')) as { recordNoWorkflowSpans(): void };
  built.recordNoWorkflowSpans();
  const none = new SpanNames();
  running = await startTestWorker('spans-off', activities, { spanProcessor: none });
  await oneTransfer(running);
  expect(none.names).toEqual([]);
});
