/**
 * The workflow is the outbox of its events: every event it records reaches
 * publishEvents exactly in order, including events recorded while an earlier
 * publish is still in flight (a slow or absent broker). Run by a worker in
 * this process on a task queue of its own, with the activities replaced, on
 * the test stack's Temporal server.
 */
import { type Client, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../../libs/contracts/src/events';
import { transferableDisk } from '../../libs/domain/src/disk.fixtures';
import { DEFAULT_TRANSFER_POLICY, type TransferRequest } from '../../libs/domain/src/transfer';
import {
  acceptUpdate,
  awaitCreationUpdate,
  deleteUpdate,
  TRANSFER_WORKFLOW_TYPE,
  transferWorkflowId,
} from '../../libs/temporal/src/transfer.definitions';
import { eventually } from '../support/tenants';
import { startTestWorker, type TestWorker } from '../support/test-worker';


/** What the replaced activities saw, and a gate that holds the first publish until the test opens it. */
const published: string[][] = [];
let openGate: () => void = () => undefined;
const gate = new Promise<void>((resolve) => {
  openGate = resolve;
});
let publishCalls = 0;

const activities = {
  async lockDiskForTransfer(input: { diskId: string; projectId: string; transferId: string }) {
    return { ok: true, disk: transferableDisk({ id: input.diskId, projectId: input.projectId, status: 'awaiting-transfer', transferId: input.transferId }) };
  },
  async releaseDiskTransferLock() {
    return { released: true, disk: null };
  },
  async reassignDisk() {
    return { ok: false, reason: 'Internal' };
  },
  async recordTransferPending() {},
  async recordTransferEnded() {},
  async publishEvents(records: OutgoingRecord[]) {
    publishCalls += 1;
    if (publishCalls === 1) await gate;
    published.push(records.map((r) => r.event.id));
  },
};

let harness: TestWorker;
let client: Client;
let TASK_QUEUE: string;

beforeAll(async () => {
  harness = await startTestWorker('outbox', activities);
  ({ client, taskQueue: TASK_QUEUE } = harness);
});

afterAll(async () => {
  openGate();
  await harness?.stop();
});

describe('event outbox', () => {
  it('publishes the events recorded while a publish was in flight, in order', async () => {
    const transferId = randomUUID();
    const request: TransferRequest = {
      transferId,
      volumeId: randomUUID(),
      name: 'outbox',
      owner: { projectId: 'outbox-a', userId: 'alice', requestId: `req-${randomUUID()}` },
      createdAtMs: Date.now(),
      authKeyHash: 'a'.repeat(64),
      policy: DEFAULT_TRANSFER_POLICY,
    };
    await client.workflow.executeUpdateWithStart(awaitCreationUpdate, {
      startWorkflowOperation: new WithStartWorkflowOperation(TRANSFER_WORKFLOW_TYPE, {
        workflowId: transferWorkflowId(transferId),
        taskQueue: TASK_QUEUE,
        args: [request],
        workflowIdConflictPolicy: 'FAIL',
      }),
    });
    const handle = client.workflow.getHandle(transferWorkflowId(transferId));
    // The created event is being published (and held); two wrong keys are recorded meanwhile.
    await eventually(async () => publishCalls === 1);
    for (const n of [1, 2]) {
      const actor = { projectId: 'outbox-b', userId: 'bob', requestId: `req-wrong-${n}` };
      await expect(handle.executeUpdate(acceptUpdate, { args: [{ actor, authKeyHash: 'b'.repeat(64) }] })).rejects.toBeInstanceOf(
        WorkflowUpdateFailedError,
      );
    }
    openGate();
    await handle.executeUpdate(deleteUpdate, { args: [{ actor: { ...request.owner, requestId: 'req-delete' } }] });
    expect(await handle.result()).toMatchObject({ status: 'deleted' });

    expect(published.flat()).toEqual([
      `${transferId}/created`,
      `${transferId}/accept_failed/1`,
      `${transferId}/accept_failed/2`,
      `${transferId}/deleted`,
    ]);
  });
});
