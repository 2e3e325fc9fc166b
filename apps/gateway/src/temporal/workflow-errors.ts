/**
 * Temporal's failures, as the caller sees them. The workflow reports a
 * refusal by failing the update with ApplicationFailure(type = ErrorName,
 * details = [ErrorDetails]); that becomes the same DomainError here. What
 * Temporal itself reports becomes 404 (no such workflow), 503 (Temporal
 * unreachable, or no answer in time) or 500.
 */
import {
  ApplicationFailure,
  isGrpcServiceError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { DomainError, type ErrorDetails, isErrorName } from '../../../../libs/domain/src/errors';

export type WorkflowOperation = 'create' | 'accept' | 'delete' | 'forceDelete';

/** gRPC status codes (grpc/status.h) the mapping distinguishes. */
const GRPC = { CANCELLED: 1, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;
const TRANSIENT_GRPC_CODES: readonly number[] = [GRPC.UNAVAILABLE, GRPC.RESOURCE_EXHAUSTED];

/** The outcome is unknown: the call may still take effect after the gateway stopped waiting. */
export const OUTCOME_UNKNOWN_MESSAGES: Record<WorkflowOperation, string> = {
  create:
    'The transfer was not confirmed in time and may still be created. Sent with an Idempotency-Key, retry with the ' +
    'same key and body to get the transfer and its auth key. Without one, list your transfers before retrying: ' +
    'a transfer created this way has no usable auth key, so delete it.',
  accept:
    'The acceptance was not confirmed in time and may still complete. ' +
    'Check whether the disk now belongs to your project before retrying.',
  delete: 'The deletion was not confirmed in time and may still complete. Show the transfer before retrying.',
  forceDelete:
    'The force-delete was not confirmed in time and may still complete. ' +
    "List all projects' transfers (all_tenants=1) before retrying.",
};

/** The gateway's own deadline passed (the race timer, when gRPC's deadline did not fire first). */
export class WorkflowCallTimeout extends Error {
  constructor() {
    super('workflow call deadline passed');
    this.name = 'WorkflowCallTimeout';
  }
}

function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e: unknown = err; e !== undefined && e !== null && chain.length < 10; e = (e as { cause?: unknown }).cause) {
    chain.push(e);
  }
  return chain;
}

function grpcCode(err: unknown): number | undefined {
  for (const e of causes(err)) {
    if (isGrpcServiceError(e)) return e.code;
  }
  return undefined;
}

/** Only the fields ErrorDetails defines, each checked: details come from another process. */
function safeDetails(raw: unknown): ErrorDetails {
  const details: ErrorDetails = {};
  if (raw !== null && typeof raw === 'object') {
    const { retryAfterSeconds, message } = raw as Record<string, unknown>;
    if (typeof retryAfterSeconds === 'number' && Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0) {
      details.retryAfterSeconds = retryAfterSeconds;
    }
    if (typeof message === 'string' && message.length > 0 && message.length <= 500) details.message = message;
  }
  return details;
}

export interface MappedWorkflowError {
  error: DomainError;
  /** Not an outcome the workflow decided: worth a log line with the original. */
  unexpected: boolean;
}

export function mapWorkflowError(err: unknown, operation: WorkflowOperation): MappedWorkflowError {
  if (err instanceof DomainError) return { error: err, unexpected: false };

  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && isErrorName(cause.type)) {
      return { error: new DomainError(cause.type, safeDetails(cause.details?.[0])), unexpected: false };
    }
    return { error: new DomainError('Internal'), unexpected: true };
  }

  // No such workflow, or it has completed: the transfer is no longer pending.
  if (err instanceof WorkflowNotFoundError) return { error: new DomainError('TransferNotFound'), unexpected: false };
  if (grpcCode(err) === GRPC.NOT_FOUND && operation !== 'create') {
    return { error: new DomainError('TransferNotFound'), unexpected: false };
  }

  if (err instanceof WorkflowCallTimeout || err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return {
      error: new DomainError('DependencyUnavailable', { message: OUTCOME_UNKNOWN_MESSAGES[operation] }),
      unexpected: false,
    };
  }
  const code = grpcCode(err);
  if (code === GRPC.DEADLINE_EXCEEDED || code === GRPC.CANCELLED) {
    return {
      error: new DomainError('DependencyUnavailable', { message: OUTCOME_UNKNOWN_MESSAGES[operation] }),
      unexpected: false,
    };
  }
  if (code !== undefined && TRANSIENT_GRPC_CODES.includes(code)) {
    return { error: new DomainError('DependencyUnavailable'), unexpected: true };
  }
  if (err instanceof ServiceError && code === undefined) {
    // The client could not reach the server at all (no gRPC status).
    return { error: new DomainError('DependencyUnavailable'), unexpected: true };
  }
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    // Transfer ids are random UUIDs: a collision means a bug, not a caller error.
    return { error: new DomainError('Internal'), unexpected: true };
  }
  return { error: new DomainError('Internal'), unexpected: true };
}
