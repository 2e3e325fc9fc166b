/**
 * An administrator's force-delete of a transfer whose accept is stuck: the
 * inventory keeps failing the reassign, so the workflow retries it without
 * end. Run by a worker in this process on a task queue of its own, with the
 * activities replaced (the real inventory cannot be made to fail one call
 * forever), on the test stack's Temporal server.
 */
import { type Client, WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../../libs/contracts/src/events';
import { transferableDisk } from '../../libs/domain/src/disk.fixtures';
import { type Actor, DEFAULT_TRANSFER_POLICY, type TransferRequest } from '../../libs/domain/src/transfer';
import {
  acceptUpdate,
  awaitCreationUpdate,
  forceDeleteUpdate,
  TRANSFER_WORKFLOW_TYPE,
  transferWorkflowId,
} from '../../libs/temporal/src/transfer.definitions';
import { eventually } from '../support/tenants';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const OWNER = 'fd-owner';
const RECIPIENT = 'fd-recipient';
const admin: Actor = { projectId: 'fd-ops', userId: 'root', requestId: 'req-force-delete' };

/**
 * What each transfer's stuck reassign had really done at the inventory
 * before its answers were lost: nothing, or moved the disk.
 */
const reassignLanded = new Map<string, boolean>();
const reassignCalls = new Map<string, number>();
const endings = new Map<string, { outcome: string; destinationProjectId: string | null }>();
const published: OutgoingRecord[] = [];

const activities = {
  async lockDiskForTransfer(input: { diskId: string; projectId: string; transferId: string }) {
    return { ok: true, disk: transferableDisk({ id: input.diskId, projectId: input.projectId, status: 'awaiting-transfer', transferId: input.transferId }) };
  },
  async reassignDisk(input: { transferId: string }) {
    reassignCalls.set(input.transferId, (reassignCalls.get(input.transferId) ?? 0) + 1);
    throw new Error('the inventory fails this reassign every time');
  },
  async releaseDiskTransferLock(input: { diskId: string; transferId: string }) {
    if (reassignLanded.get(input.transferId)) {
      return { released: false, disk: transferableDisk({ id: input.diskId, projectId: RECIPIENT, status: 'available', transferId: null }) };
    }
    return { released: true, disk: transferableDisk({ id: input.diskId, projectId: OWNER, status: 'available', transferId: null }) };
  },
  // A read-model write may carry events, which the real one appends to the outbox in its transaction.
  async recordTransferPending(_row: unknown, events: OutgoingRecord[] = []) {
    published.push(...events);
  },
  async recordTransferEnded(input: { transferId: string; outcome: string; destinationProjectId: string | null }, events: OutgoingRecord[] = []) {
    endings.set(input.transferId, { outcome: input.outcome, destinationProjectId: input.destinationProjectId });
    published.push(...events);
  },
  async enqueueEvents(records: OutgoingRecord[]) {
    published.push(...records);
  },
};

let harness: TestWorker;
let client: Client;
let TASK_QUEUE: string;

beforeAll(async () => {
  try {
    // The replaced reassign fails on purpose, again and again: its warnings would bury the test output.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // This process already runs a Temporal runtime (its logger stays as it was).
  }
  harness = await startTestWorker('force-delete', activities);
  ({ client, taskQueue: TASK_QUEUE } = harness);
});

afterAll(async () => {
  await harness?.stop();
});

/** A transfer whose accept (by the recipient, with the right key) is stuck retrying the reassign. */
async function stuckAccept(landed: boolean) {
  const transferId = randomUUID();
  const request: TransferRequest = {
    transferId,
    volumeId: randomUUID(),
    name: 'stuck',
    owner: { projectId: OWNER, userId: 'alice', requestId: `req-${randomUUID()}` },
    createdAtMs: Date.now(),
    authKeyHash: 'c'.repeat(64),
    policy: DEFAULT_TRANSFER_POLICY,
  };
  reassignLanded.set(transferId, landed);
  await client.workflow.executeUpdateWithStart(awaitCreationUpdate, {
    startWorkflowOperation: new WithStartWorkflowOperation(TRANSFER_WORKFLOW_TYPE, {
      workflowId: transferWorkflowId(transferId),
      taskQueue: TASK_QUEUE,
      args: [request],
      workflowIdConflictPolicy: 'FAIL',
    }),
  });
  const handle = client.workflow.getHandle(transferWorkflowId(transferId));
  const recipient: Actor = { projectId: RECIPIENT, userId: 'bob', requestId: `req-accept-${transferId}` };
  const accept = await handle.startUpdate(acceptUpdate, {
    args: [{ actor: recipient, authKeyHash: request.authKeyHash }],
    waitForStage: WorkflowUpdateStage.ACCEPTED,
  });
  await eventually(async () => (reassignCalls.get(transferId) ?? 0) >= 2);
  return { transferId, handle, accept, request };
}

const eventsOf = (transferId: string) => published.filter((r) => r.event.subject === `transfers/${transferId}`);

describe('force-delete of a transfer whose accept is stuck', () => {
  it('abandons the accept, gives the disk back to its owner, and ends deleted by the administrator', async () => {
    const { transferId, handle, accept, request } = await stuckAccept(false);

    await expect(handle.executeUpdate(forceDeleteUpdate, { args: [{ actor: admin }] })).resolves.toEqual({
      transferId,
      volumeId: request.volumeId,
      ownerProjectId: OWNER,
    });
    expect(await handle.result()).toMatchObject({ status: 'deleted' });
    expect(endings.get(transferId)).toEqual({ outcome: 'deleted', destinationProjectId: null });

    // The acceptor waiting all along learns its accept did not happen.
    const acceptError = await accept.result().catch((e: unknown) => e);
    expect(acceptError).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((acceptError as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('TransferNotFound');

    await eventually(async () => eventsOf(transferId).length === 2);
    const [created, deleted] = eventsOf(transferId);
    expect(created.event.id).toBe(`${transferId}/created`);
    expect(deleted.event.id).toBe(`${transferId}/deleted`);
    expect(deleted.event.data).toMatchObject({
      source_project_id: OWNER,
      deleted_by_project_id: admin.projectId,
      deleted_by_user_id: admin.userId,
      request_id: admin.requestId,
      forced: true,
    });
  });

  it('says accepted, not deleted, when the stuck reassign had in fact moved the disk', async () => {
    const { transferId, handle, accept } = await stuckAccept(true);

    const refusal = await handle.executeUpdate(forceDeleteUpdate, { args: [{ actor: admin }] }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((refusal as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('TransferAlreadyAccepted');
    expect(await handle.result()).toMatchObject({ status: 'accepted' });
    expect(endings.get(transferId)).toEqual({ outcome: 'accepted', destinationProjectId: RECIPIENT });
    await expect(accept.result()).resolves.toMatchObject({ transferId });

    await eventually(async () => eventsOf(transferId).length === 2);
    expect(eventsOf(transferId).map((r) => r.event.id)).toEqual([`${transferId}/created`, `${transferId}/accepted`]);
    expect(eventsOf(transferId)[1].event.data).toMatchObject({ destination_project_id: RECIPIENT, destination_user_id: 'bob' });
  });

  it('ends the transfer once: a second force-delete after the first is refused', async () => {
    const { transferId, handle } = await stuckAccept(false);
    await handle.executeUpdate(forceDeleteUpdate, { args: [{ actor: admin }] });
    const again = await handle
      .executeUpdate(forceDeleteUpdate, { args: [{ actor: { ...admin, requestId: 'req-force-again' } }] })
      .catch((e: unknown) => e);
    // Refused by the workflow (TransferNotFound), or the workflow has already closed.
    expect(again).toBeInstanceOf(Error);
    await handle.result();
    await eventually(async () => eventsOf(transferId).length === 2);
    expect(eventsOf(transferId).filter((r) => r.event.id.endsWith('/deleted'))).toHaveLength(1);
  });
});
