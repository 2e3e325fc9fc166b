/**
 * The transfer workflow on the real Temporal server, run by the stack's
 * worker against the real inventory, driven here with a plain Temporal client
 * (no gateway): what an operator sees and what the workflow guarantees.
 */
import { Client, Connection, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TRANSFER_POLICY, type TransferRequest } from '../../libs/domain/src/transfer';
import {
  acceptUpdate,
  awaitCreationUpdate,
  SEARCH_ATTRIBUTES,
  TRANSFER_TASK_QUEUE,
  TRANSFER_WORKFLOW_TYPE,
  transferViewQuery,
  transferWorkflowId,
} from '../../libs/temporal/src/transfer.definitions';
import { harnessInventory } from '../support/inventory';
import { testStack } from '../support/stack';
import { eventually, uniqueProjectId } from '../support/tenants';

const secret = Buffer.from('integration-test-secret');
const hash = (transferId: string, key: string) => createHmac('sha256', secret).update(`${transferId}:${key}`).digest('hex');

let connection: Connection;
let client: Client;
const inventory = harnessInventory();

beforeAll(async () => {
  connection = await Connection.connect({ address: testStack().temporalAddress });
  client = new Client({ connection, namespace: testStack().namespace });
});
afterAll(async () => {
  await connection?.close();
});

async function startTransfer(projectId: string, volumeId: string, key: string) {
  const transferId = randomUUID();
  const request: TransferRequest = {
    transferId,
    volumeId,
    name: 'integration',
    owner: { projectId, userId: 'operator-test', requestId: `req-${randomUUID()}` },
    createdAtMs: Date.now(),
    authKeyHash: hash(transferId, key),
    policy: DEFAULT_TRANSFER_POLICY,
  };
  const start = new WithStartWorkflowOperation(TRANSFER_WORKFLOW_TYPE, {
    workflowId: transferWorkflowId(transferId),
    taskQueue: TRANSFER_TASK_QUEUE,
    args: [request],
    workflowIdConflictPolicy: 'FAIL',
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.transferId, value: transferId },
      { key: SEARCH_ATTRIBUTES.diskId, value: volumeId },
      { key: SEARCH_ATTRIBUTES.sourceProjectId, value: projectId },
      { key: SEARCH_ATTRIBUTES.state, value: 'validating' },
    ],
  });
  const outcome = client.workflow.executeUpdateWithStart(awaitCreationUpdate, { startWorkflowOperation: start });
  return { transferId, outcome, handle: client.workflow.getHandle(transferWorkflowId(transferId)) };
}

async function failureType(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) return err.cause.type ?? undefined;
    throw err;
  }
  return undefined;
}

describe('transfer workflow', () => {
  it('locks the disk, counts a wrong key, moves ownership once, and is findable by its search attributes', async () => {
    const a = uniqueProjectId('wf-a');
    const b = uniqueProjectId('wf-b');
    const disk = await inventory.createVolume(a, { size: 8 });
    const { transferId, outcome, handle } = await startTransfer(a, disk.id, 'feedfacecafebeef');
    expect(await outcome).toMatchObject({ transferId });
    expect((await inventory.getDisk(disk.id))?.status).toBe('awaiting-transfer');
    expect((await inventory.getDisk(disk.id))?.transferId).toBe(transferId);

    const actor = { projectId: b, userId: 'bob', requestId: 'req-1' };
    expect(await failureType(handle.executeUpdate(acceptUpdate, { args: [{ actor, authKeyHash: hash(transferId, 'wrong') }] }))).toBe(
      'InvalidAuthKey',
    );
    expect((await handle.query(transferViewQuery)).failedAccepts).toBe(1);

    const accepted = await handle.executeUpdate(acceptUpdate, {
      args: [{ actor: { ...actor, requestId: 'req-2' }, authKeyHash: hash(transferId, 'feedfacecafebeef') }],
    });
    expect(accepted).toEqual({ transferId, volumeId: disk.id, name: 'integration' });
    const moved = await inventory.getDisk(disk.id);
    expect(moved).toMatchObject({ projectId: b, status: 'available', transferId: null });
    expect(await handle.result()).toEqual({ transferId, status: 'accepted', reason: null });

    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.state)).toBe('accepted');
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.destinationProjectId)).toBe(b);
    const found = await eventually(async () => {
      const rows = [];
      for await (const w of client.workflow.list({ query: `EvsDiskId = "${disk.id}" AND EvsDestinationProjectId = "${b}"` })) rows.push(w);
      return rows.length === 1 ? rows : null;
    });
    expect(found[0].workflowId).toBe(transferWorkflowId(transferId));
  });

  it('rejects at validation with the rule the disk breaks, and ends the workflow', async () => {
    const a = uniqueProjectId('wf-rej');
    const disk = await inventory.createVolume(a, { size: 8, encrypted: true });
    const { outcome, handle } = await startTransfer(a, disk.id, '0123456789abcdef');
    expect(await failureType(outcome)).toBe('DiskEncrypted');
    expect(await handle.result()).toMatchObject({ status: 'rejected', reason: 'DiskEncrypted' });
    expect((await inventory.getDisk(disk.id))?.status).toBe('available');
  });

  it('keeps a pending transfer waiting on a durable timer', async () => {
    const a = uniqueProjectId('wf-pend');
    const disk = await inventory.createVolume(a, { size: 8 });
    const { outcome, handle } = await startTransfer(a, disk.id, '0123456789abcdef');
    await outcome;
    const view = await handle.query(transferViewQuery);
    expect(view.status).toBe('pending');
    expect(view.expiresAtMs - view.createdAtMs).toBe(DEFAULT_TRANSFER_POLICY.timeToLiveMs);
    const history = await handle.fetchHistory();
    const timers = (history.events ?? []).filter((e) => e.timerStartedEventAttributes);
    expect(timers).toHaveLength(1);
    await handle.terminate('test cleanup');
  });
});
