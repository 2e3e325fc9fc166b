/**
 * How many activities a completed transfer really ran, read from its
 * history, so the baseline runs the same number of the same kinds.
 */
import type { Client } from '@temporalio/client';
import { transferWorkflowId } from '../../libs/temporal/src/transfer.definitions';
import type { BaselineShape } from './baseline.definitions';

/** The marker the SDK records for each local activity's result. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

export interface TransferShape extends BaselineShape {
  historyEvents: number;
  workflowTasks: number;
}

export async function transferShape(client: Client, transferId: string): Promise<TransferShape> {
  const handle = client.workflow.getHandle(transferWorkflowId(transferId));
  await handle.result();
  const events = (await handle.fetchHistory()).events ?? [];
  return {
    activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
    localActivities: events.filter((e) => e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER).length,
    historyEvents: events.length,
    workflowTasks: events.filter((e) => e.workflowTaskCompletedEventAttributes).length,
  };
}
