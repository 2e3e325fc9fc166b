import { trace } from '@opentelemetry/api';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { useRegisteredTracer } from '../libs/observability/src/registered-tracer.test-harness';
import { transferWorkflowId } from '../libs/temporal/src/transfer.definitions';
import { createInventoryActivities, type InventoryTransferPort } from './inventory.activities';

const TRANSFER = '0c5e2f4a-1111-4000-8000-000000000001';
const DISK = '7d1b9e20-2222-4000-8000-000000000002';

/** The inventory as it answers when the transfer's lock was released by hand. */
const lockGone: InventoryTransferPort = {
  lockForTransfer: async () => {
    throw new Error('not called');
  },
  releaseTransferLock: async () => {
    throw new Error('not called');
  },
  reassign: async () => ({ ok: false, reason: 'TransferNotHoldingDisk' }),
};

useRegisteredTracer();

describe('activity log lines', () => {
  it('name the transfer and the disk, and the activity’s span, when an accept finds its lock gone', async () => {
    const entries: LogEntry[] = [];
    const env = new MockActivityEnvironment(
      { activityType: 'reassignDisk', workflowExecution: { workflowId: transferWorkflowId(TRANSFER), runId: 'r-1' } },
      { logger: new DefaultLogger('TRACE', (entry) => entries.push(entry)) },
    );
    const activities = createInventoryActivities({ inventory: lockGone });
    let spanIds = { traceId: '', spanId: '' };
    const outcome = await trace.getTracer('activity-log-spec').startActiveSpan('RunActivity:reassignDisk', async (span) => {
      spanIds = span.spanContext();
      try {
        return await env.run((input) => activities.reassignDisk(input), { diskId: DISK, transferId: TRANSFER, toProjectId: 'project-b' });
      } finally {
        span.end();
      }
    });

    expect(outcome).toEqual({ ok: false, reason: 'Internal' });
    const warning = entries.find((e) => e.level === 'WARN');
    expect(warning?.message).toContain('no longer holds the lock');
    expect(warning?.meta).toMatchObject({
      transfer_id: TRANSFER,
      disk_id: DISK,
      trace_id: spanIds.traceId,
      span_id: spanIds.spanId,
      // What the SDK adds on its own: the line is the activity's.
      workflowId: transferWorkflowId(TRANSFER),
      activityType: 'reassignDisk',
      sdkComponent: 'activity',
    });
  });

  it('are dropped, not thrown, when the activity runs outside Temporal', async () => {
    const activities = createInventoryActivities({ inventory: lockGone });
    await expect(activities.reassignDisk({ diskId: DISK, transferId: TRANSFER, toProjectId: 'project-b' })).resolves.toEqual({
      ok: false,
      reason: 'Internal',
    });
  });
});
