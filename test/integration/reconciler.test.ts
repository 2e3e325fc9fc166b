/**
 * The reconciler on the real stack: the Schedule the worker created,
 * triggered as an operator would, against the real inventory, Temporal and
 * Kafka. Disagreements are made the way they arise outside the service: a
 * lock taken with no workflow behind it, a workflow terminated by hand, a
 * lock released behind a pending transfer's back.
 */
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOUD_EVENT_TYPES, reconcilerFindingId, TOPICS } from '../../libs/contracts/src/events';
import type { FindingKind } from '../../libs/domain/src/reconciliation';
import { DEFAULT_TRANSFER_POLICY, type TransferRequest } from '../../libs/domain/src/transfer';
import type { ReconcileReport } from '../../libs/temporal/src/reconciler.definitions';
import { triggerReconcileRun } from '../../libs/temporal/src/reconciler-schedule';
import {
  awaitCreationUpdate,
  deleteUpdate,
  SEARCH_ATTRIBUTES,
  TRANSFER_TASK_QUEUE,
  TRANSFER_WORKFLOW_TYPE,
  transferViewQuery,
  transferWorkflowId,
} from '../../libs/temporal/src/transfer.definitions';
import { harnessInventory } from '../support/inventory';
import { KafkaCollector } from '../support/kafka-collector';
import { testStack } from '../support/stack';
import { eventually, uniqueProjectId } from '../support/tenants';

let connection: Connection;
let client: Client;
let events: KafkaCollector;
const inventory = harnessInventory();

beforeAll(async () => {
  connection = await Connection.connect({ address: testStack().temporalAddress });
  client = new Client({ connection, namespace: testStack().namespace });
  events = await KafkaCollector.start([TOPICS.operations]);
});
afterAll(async () => {
  await events?.stop();
  await connection?.close();
});

async function reconcile(): Promise<ReconcileReport> {
  return (await triggerReconcileRun(client, { timeoutMs: 90_000 })).report;
}

const findingsOf = (report: ReconcileReport, transferId: string) => report.findings.filter((f) => f.transferId === transferId);

/** A pending transfer of a fresh disk, run by the stack's worker, and listed as pending by Temporal's visibility. */
async function pendingTransfer(label: string) {
  const projectId = uniqueProjectId(label);
  const disk = await inventory.createVolume(projectId, { size: 4 });
  const transferId = randomUUID();
  const owner = { projectId, userId: 'owner', requestId: `req-${randomUUID()}` };
  const request: TransferRequest = {
    transferId,
    volumeId: disk.id,
    name: label,
    owner,
    createdAtMs: Date.now(),
    authKeyHash: 'e'.repeat(64),
    policy: DEFAULT_TRANSFER_POLICY,
  };
  await client.workflow.executeUpdateWithStart(awaitCreationUpdate, {
    startWorkflowOperation: new WithStartWorkflowOperation(TRANSFER_WORKFLOW_TYPE, {
      workflowId: transferWorkflowId(transferId),
      taskQueue: TRANSFER_TASK_QUEUE,
      args: [request],
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.transferId, value: transferId },
        { key: SEARCH_ATTRIBUTES.diskId, value: disk.id },
        { key: SEARCH_ATTRIBUTES.sourceProjectId, value: projectId },
        { key: SEARCH_ATTRIBUTES.state, value: 'validating' },
      ],
    }),
  });
  const query = `${SEARCH_ATTRIBUTES.transferId.name} = "${transferId}" AND ${SEARCH_ATTRIBUTES.state.name} = "pending"`;
  await eventually(async () => (await client.workflow.count(query)).count === 1);
  const handle = client.workflow.getHandle(transferWorkflowId(transferId));
  /** Ends the transfer the way its owner would, so no lock outlives the test. */
  const deleteByOwner = () => handle.executeUpdate(deleteUpdate, { args: [{ actor: { ...owner, requestId: `req-${randomUUID()}` } }] });
  return { projectId, diskId: disk.id, transferId, handle, deleteByOwner };
}

const eventId = (transferId: string, diskId: string, kind: FindingKind) => reconcilerFindingId({ transferId, diskId, kind });

describe('reconciler', () => {
  it('releases a lock whose transfer has no workflow, reports it once, and has nothing left to do on the next run', async () => {
    const projectId = uniqueProjectId('rc-orphan');
    const disk = await inventory.createVolume(projectId, { size: 4 });
    const transferId = randomUUID();
    expect((await inventory.lockForTransfer({ diskId: disk.id, projectId, transferId })).ok).toBe(true);

    const first = await reconcile();
    const id = eventId(transferId, disk.id, 'orphaned_lock');
    expect(findingsOf(first, transferId)).toEqual([
      expect.objectContaining({ id, kind: 'orphaned_lock', diskId: disk.id, outcome: 'released', needsAttention: false, publishedNow: true }),
    ]);
    expect(await inventory.getDisk(disk.id)).toMatchObject({ projectId, status: 'available', transferId: null });

    const event = await events.waitFor((e) => e.id === id);
    expect(event).toMatchObject({
      type: CLOUD_EVENT_TYPES.ReconcilerFinding,
      subject: `transfers/${transferId}`,
      key: disk.id,
      data: {
        kind: 'orphaned_lock',
        outcome: 'released',
        needs_attention: false,
        disk: { project_id: projectId, status: 'awaiting-transfer', transfer_id: transferId },
        workflow: { found: false, recorded_status: null },
      },
    });

    const second = await reconcile();
    expect(findingsOf(second, transferId)).toEqual([]);
    expect(await inventory.getDisk(disk.id)).toMatchObject({ projectId, status: 'available', transferId: null });
    expect(events.events.filter((e) => e.id === id)).toHaveLength(1);
  });

  it('releases the lock a transfer terminated by hand left behind, to the owner the disk has', async () => {
    const { projectId, diskId, transferId, handle } = await pendingTransfer('rc-term');
    await handle.terminate('an operator ended it by hand');
    expect(await inventory.getDisk(diskId)).toMatchObject({ status: 'awaiting-transfer', transferId });

    const report = await reconcile();
    expect(findingsOf(report, transferId)).toEqual([
      expect.objectContaining({ kind: 'lock_outlived_transfer', outcome: 'released', publishedNow: true }),
    ]);
    expect(await inventory.getDisk(diskId)).toMatchObject({ projectId, status: 'available', transferId: null });
    const event = await events.waitFor((e) => e.id === eventId(transferId, diskId, 'lock_outlived_transfer'));
    expect(event.data).toMatchObject({
      outcome: 'released',
      workflow: { found: true, run_status: 'terminated', transfer_state: 'pending', volume_id: diskId, source_project_id: projectId },
    });
  });

  it('leaves a running pending transfer and its lock untouched', async () => {
    const { diskId, transferId, handle, deleteByOwner } = await pendingTransfer('rc-live');
    try {
      const report = await reconcile();
      expect(report.locksChecked).toBeGreaterThanOrEqual(1);
      expect(report.pendingTransfersChecked).toBeGreaterThanOrEqual(1);
      expect(findingsOf(report, transferId)).toEqual([]);
      expect(await inventory.getDisk(diskId)).toMatchObject({ status: 'awaiting-transfer', transferId });
      expect((await handle.query(transferViewQuery)).status).toBe('pending');
    } finally {
      await deleteByOwner();
    }
  });

  it('reports, once and without repairing, a pending transfer whose lock was released behind its back', async () => {
    const { projectId, diskId, transferId, handle, deleteByOwner } = await pendingTransfer('rc-drift');
    try {
      expect((await inventory.releaseTransferLock({ diskId, transferId })).released).toBe(true);
      const id = eventId(transferId, diskId, 'pending_transfer_lock_lost');

      const first = await reconcile();
      expect(findingsOf(first, transferId)).toEqual([
        expect.objectContaining({ id, kind: 'pending_transfer_lock_lost', outcome: 'reported', needsAttention: true, publishedNow: true }),
      ]);
      const event = await events.waitFor((e) => e.id === id);
      expect(event.data).toMatchObject({
        needs_attention: true,
        disk: { project_id: projectId, status: 'available', transfer_id: null },
        workflow: { found: true, run_status: 'running', transfer_state: 'pending' },
      });
      // Reported only: the transfer runs on, and the disk stays as the inventory has it.
      expect((await handle.describe()).status.name).toBe('RUNNING');
      expect((await handle.query(transferViewQuery)).status).toBe('pending');
      expect(await inventory.getDisk(diskId)).toMatchObject({ projectId, status: 'available', transferId: null });

      // Found again with the same id, and not sent again.
      const second = await reconcile();
      expect(findingsOf(second, transferId)).toEqual([expect.objectContaining({ id, publishedNow: false })]);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(events.events.filter((e) => e.id === id)).toHaveLength(1);
    } finally {
      // The owner can still end it: the release finds no lock of its own and changes nothing.
      await deleteByOwner();
    }
    expect(await handle.result()).toMatchObject({ status: 'deleted' });
    expect(await inventory.getDisk(diskId)).toMatchObject({ projectId, status: 'available', transferId: null });
  });

  it('shows the run in the Temporal UI: under the Schedule, with its findings as details and result', async () => {
    const projectId = uniqueProjectId('rc-ui');
    const disk = await inventory.createVolume(projectId, { size: 4 });
    const transferId = randomUUID();
    await inventory.lockForTransfer({ diskId: disk.id, projectId, transferId });
    const run = await triggerReconcileRun(client, { timeoutMs: 90_000 });
    expect(run.workflowId).toMatch(/^evs-reconciler-run-/);
    const description = await client.workflow.getHandle(run.workflowId, run.runId).describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(await description.staticSummary()).toContain('Reconcile');
    const metadata = await client.workflow.getHandle(run.workflowId, run.runId).query<{ currentDetails: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain('**done**');
    expect(metadata.currentDetails).toContain(disk.id);
  });
});
