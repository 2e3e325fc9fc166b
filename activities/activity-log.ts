/**
 * A log line from activity code. It goes through the activity context's
 * logger, so it carries what the SDK adds (workflowId, activityType,
 * attempt) and reaches the worker's log like the SDK's own lines; here it
 * gains the transfer's and the disk's ids under the names every process logs
 * them by, and the trace ids of the activity's span, taken now: the SDK
 * passes lines on up to 100 ms later, outside any span.
 *
 * Outside an activity (a factory's unit test calling the function directly)
 * the line is dropped.
 */
import { asyncLocalStorage } from '@temporalio/activity';
import { activeTraceIds } from '../libs/observability/src/trace-ids';

export interface ActivityLogFields {
  transfer_id?: string;
  disk_id?: string;
  [field: string]: string | number | boolean | undefined;
}

export function activityLog(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields: ActivityLogFields): void {
  const context = asyncLocalStorage.getStore();
  if (context === undefined) return;
  context.log[level](message, { ...fields, ...activeTraceIds() });
}
