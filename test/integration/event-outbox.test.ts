/**
 * Every event the workflow records reaches the outbox exactly once and in
 * order, including events decided in an update's handler (wrong keys), which
 * are appended only once the task that took the update is in history: a
 * durable timer fires between the update's acceptance and the local activity
 * that appends them. The created event rides with the pending row's write
 * instead of a step of its own, and the ending's likewise. A transfer
 * started at the current revision records no patch marker. Run by a worker
 * in this process on a task queue of its own, with the activities replaced,
 * on the test stack's Temporal server.
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
  TRANSFER_WORKFLOW_REVISION,
  TRANSFER_WORKFLOW_TYPE,
  transferWorkflowId,
  type TransferWorkflowOptions,
} from '../../libs/temporal/src/transfer.definitions';
import { startTestWorker, type TestWorker } from '../support/test-worker';


/** The batches of event ids the replaced steps were given, in order, with the step that took each. */
const enqueued: { step: string; ids: string[] }[] = [];
const take = (step: string, records: OutgoingRecord[]) => {
  if (records.length > 0) enqueued.push({ step, ids: records.map((r) => r.event.id) });
};

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
  async recordTransferPending(_row: unknown, events: OutgoingRecord[] = []) {
    take('recordTransferPending', events);
  },
  async recordTransferEnded(_ending: unknown, events: OutgoingRecord[] = []) {
    take('recordTransferEnded', events);
  },
  async enqueueEvents(records: OutgoingRecord[]) {
    take('enqueueEvents', records);
  },
  async publishEvents() {
    throw new Error('a transfer started with the outbox never publishes directly');
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
  await harness?.stop();
});

/** Creates a transfer as a gateway does, with the workflow's options it passes (none, as older gateways did). */
async function createTransfer(name: string, options?: TransferWorkflowOptions) {
  const transferId = randomUUID();
  const request: TransferRequest = {
    transferId,
    volumeId: randomUUID(),
    name,
    owner: { projectId: 'outbox-a', userId: 'alice', requestId: `req-${randomUUID()}` },
    createdAtMs: Date.now(),
    authKeyHash: 'a'.repeat(64),
    policy: DEFAULT_TRANSFER_POLICY,
  };
  await client.workflow.executeUpdateWithStart(awaitCreationUpdate, {
    startWorkflowOperation: new WithStartWorkflowOperation(TRANSFER_WORKFLOW_TYPE, {
      workflowId: transferWorkflowId(transferId),
      taskQueue: TASK_QUEUE,
      args: options ? [request, options] : [request],
      workflowIdConflictPolicy: 'FAIL',
    }),
  });
  return { transferId, request, handle: client.workflow.getHandle(transferWorkflowId(transferId)) };
}

describe('event outbox', () => {
  it('appends every event once and in order, an update’s only after the task that took it is in history', async () => {
    const { transferId, request, handle } = await createTransfer('outbox', { revision: TRANSFER_WORKFLOW_REVISION });
    for (const n of [1, 2]) {
      const actor = { projectId: 'outbox-b', userId: 'bob', requestId: `req-wrong-${n}` };
      await expect(handle.executeUpdate(acceptUpdate, { args: [{ actor, authKeyHash: 'b'.repeat(64) }] })).rejects.toBeInstanceOf(
        WorkflowUpdateFailedError,
      );
    }
    await handle.executeUpdate(deleteUpdate, { args: [{ actor: { ...request.owner, requestId: 'req-delete' } }] });
    expect(await handle.result()).toMatchObject({ status: 'deleted' });

    expect(enqueued.flatMap((batch) => batch.ids)).toEqual([
      `${transferId}/created`,
      `${transferId}/accept_failed/1`,
      `${transferId}/accept_failed/2`,
      `${transferId}/deleted`,
    ]);
    expect(enqueued[0]).toEqual({ step: 'recordTransferPending', ids: [`${transferId}/created`] });
    const wrongKeyBatches = enqueued.filter((batch) => batch.ids.some((id) => id.includes('/accept_failed/')));
    expect(wrongKeyBatches.every((batch) => batch.step === 'enqueueEvents')).toBe(true);

    // The history says the same: each enqueueEvents step (a local activity's marker, in order, one per
    // such batch above) that appends a wrong key's event comes after a timer fired that came after the
    // acceptance of that wrong key's update.
    const events = (await handle.fetchHistory()).events ?? [];
    const appends = events.flatMap((event, index) => {
      const payload = event.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
      if (!payload) return [];
      return (JSON.parse(Buffer.from(payload).toString('utf8')) as { activity_type?: string }).activity_type === 'enqueueEvents' ? [index] : [];
    });
    const enqueueBatches = enqueued.filter((batch) => batch.step === 'enqueueEvents');
    expect(appends).toHaveLength(enqueueBatches.length);
    const acceptances = events.flatMap((event, index) =>
      event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === acceptUpdate.name ? [index] : [],
    );
    expect(acceptances).toHaveLength(2);
    acceptances.forEach((accepted, n) => {
      const append = appends[enqueueBatches.findIndex((batch) => batch.ids.includes(`${transferId}/accept_failed/${n + 1}`))];
      const timerFired = events.some((event, index) => index > accepted && index < append && event.timerFiredEventAttributes != null);
      expect(timerFired, `wrong key ${n + 1}: a timer fired between its acceptance (${accepted}) and its append (${append})`).toBe(true);
    });

    // Started at the current revision, as the gateway starts it, a transfer records no patch marker, nor
    // the TemporalChangeVersion search-attribute update the SDK adds to each.
    const patches = events.filter((event) => event.markerRecordedEventAttributes?.markerName === 'core_patch');
    expect(patches).toHaveLength(0);
    const changeVersions = events.filter(
      (event) => event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.TemporalChangeVersion,
    );
    expect(changeVersions).toHaveLength(0);
  });

  it('records one patch marker in a transfer started without a revision, as older gateways start them', async () => {
    const { transferId, request, handle } = await createTransfer('outbox-no-revision');
    await handle.executeUpdate(deleteUpdate, { args: [{ actor: { ...request.owner, requestId: 'req-delete' } }] });
    expect(await handle.result()).toMatchObject({ status: 'deleted' });
    const events = (await handle.fetchHistory()).events ?? [];
    // One marker, not the two older ones it implies; its read-model writes carry the events all the same.
    const patches = events.filter((event) => event.markerRecordedEventAttributes?.markerName === 'core_patch');
    expect(patches).toHaveLength(1);
    expect(enqueued.filter((batch) => batch.ids.some((id) => id.startsWith(transferId)))).toEqual([
      { step: 'recordTransferPending', ids: [`${transferId}/created`] },
      { step: 'recordTransferEnded', ids: [`${transferId}/deleted`] },
    ]);
  });
});
