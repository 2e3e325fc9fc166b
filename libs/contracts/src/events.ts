/**
 * The event contract consumers (billing, audit) depend on: topic names,
 * CloudEvents types and data shapes. docs/asyncapi.yaml documents the same.
 * Pure: the worker's publish activity and the gateway's audit publisher both
 * build records through here.
 */
import type { PublishedTransferEvent, TransferState } from '../../domain/src/transfer';
import { describeFinding, needsAttention, type FindingOutcome, type ReconcileFinding } from '../../domain/src/reconciliation';
import { toCinderTimestamp } from '../../domain/src/ids';
import { ERROR_CATALOGUE } from '../../domain/src/errors';

export const TOPICS = {
  lifecycle: 'evs.transfer.lifecycle.v1',
  securityAudit: 'evs.transfer.security-audit.v1',
  apiAudit: 'evs.api-audit.v1',
  /** What the reconciler found wrong between the inventory and the transfer workflows, and what it did. */
  operations: 'evs.transfer.operations.v1',
} as const;
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

export const EVENT_SOURCE = 'evs/transfer-service';

export const CLOUD_EVENT_TYPES = {
  TransferCreated: 'com.huaweicloud.evs.transfer.created.v1',
  TransferCreateRejected: 'com.huaweicloud.evs.transfer.create_rejected.v1',
  TransferAccepted: 'com.huaweicloud.evs.transfer.accepted.v1',
  TransferDeleted: 'com.huaweicloud.evs.transfer.deleted.v1',
  TransferExpired: 'com.huaweicloud.evs.transfer.expired.v1',
  AcceptAttemptFailed: 'com.huaweicloud.evs.transfer.accept_failed.v1',
  TransferLockedOut: 'com.huaweicloud.evs.transfer.locked_out.v1',
  ApiCallAudited: 'com.huaweicloud.evs.api.called.v1',
  ReconcilerFinding: 'com.huaweicloud.evs.transfer.reconciler_finding.v1',
} as const;

/** A CloudEvents 1.0 record, before it is laid out in Kafka's binary mode. */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: T;
}

export interface OutgoingRecord {
  topic: Topic;
  /** The disk id, so one disk's events stay in one partition, in order. */
  key: string;
  event: CloudEvent;
  /**
   * The trace context (W3C trace headers) the record was made in, kept with
   * it when it waits in an outbox; consumers continue that trace. Without
   * it the record carries the context of the send.
   */
  trace?: Record<string, string>;
}

const TOPIC_OF: Record<PublishedTransferEvent['type'], Topic> = {
  TransferCreated: TOPICS.lifecycle,
  TransferCreateRejected: TOPICS.lifecycle,
  TransferAccepted: TOPICS.lifecycle,
  TransferDeleted: TOPICS.lifecycle,
  TransferExpired: TOPICS.lifecycle,
  AcceptAttemptFailed: TOPICS.securityAudit,
  TransferLockedOut: TOPICS.securityAudit,
};

/**
 * Ids depend only on the transfer and the event's place in its life, so a
 * re-sent event carries the same id and consumers can drop the duplicate.
 */
export function transferEventId(transferId: string, event: PublishedTransferEvent): string {
  switch (event.type) {
    case 'AcceptAttemptFailed':
      return `${transferId}/accept_failed/${event.attempt}`;
    case 'TransferLockedOut':
      return `${transferId}/locked_out/${event.lockouts}`;
    default:
      return `${transferId}/${CLOUD_EVENT_TYPES[event.type].split('.').slice(-2, -1)[0]}`;
  }
}

function eventData(state: TransferState, event: PublishedTransferEvent): Record<string, unknown> {
  const { request } = state;
  const base = {
    transfer_id: request.transferId,
    transfer_name: request.name,
    volume_id: request.volumeId,
    source_project_id: request.owner.projectId,
  };
  switch (event.type) {
    case 'TransferCreated':
      return {
        ...base,
        source_user_id: request.owner.userId,
        request_id: request.owner.requestId,
        created_at: toCinderTimestamp(request.createdAtMs),
        expires_at: toCinderTimestamp(state.expiresAtMs),
        volume_size_gb: event.disk.sizeGb,
        volume_type: event.disk.volumeType,
      };
    case 'TransferCreateRejected':
      return {
        ...base,
        source_user_id: request.owner.userId,
        request_id: request.owner.requestId,
        reason: event.reason,
        error_code: ERROR_CATALOGUE[event.reason].code,
      };
    case 'TransferAccepted':
      return {
        ...base,
        source_user_id: request.owner.userId,
        destination_project_id: event.recipient.projectId,
        destination_user_id: event.recipient.userId,
        request_id: event.recipient.requestId,
        volume_size_gb: event.disk.sizeGb,
        volume_type: event.disk.volumeType,
        accepted_at: toCinderTimestamp(event.at),
      };
    case 'TransferDeleted':
      return {
        ...base,
        deleted_by_project_id: event.actor.projectId,
        deleted_by_user_id: event.actor.userId,
        request_id: event.actor.requestId,
        deleted_at: toCinderTimestamp(event.at),
        forced: event.forced,
      };
    case 'TransferExpired':
      return { ...base, expired_at: toCinderTimestamp(event.at) };
    case 'AcceptAttemptFailed':
      return {
        ...base,
        acting_project_id: event.actor.projectId,
        acting_user_id: event.actor.userId,
        request_id: event.actor.requestId,
        reason: event.reason,
        attempt: event.attempt,
      };
    case 'TransferLockedOut':
      return { ...base, locked_until: toCinderTimestamp(event.until), lockouts: event.lockouts };
  }
}

export function transferEventRecord(state: TransferState, event: PublishedTransferEvent): OutgoingRecord {
  return {
    topic: TOPIC_OF[event.type],
    key: state.request.volumeId,
    event: {
      specversion: '1.0',
      id: transferEventId(state.request.transferId, event),
      source: EVENT_SOURCE,
      type: CLOUD_EVENT_TYPES[event.type],
      subject: `transfers/${state.request.transferId}`,
      time: new Date(event.at).toISOString(),
      datacontenttype: 'application/json',
      data: eventData(state, event),
    },
  };
}

/**
 * The IAM-style action names: one per thing a caller can ask, which the
 * policy table (libs/auth/src/policy.ts) grants to roles and the API audit
 * records name.
 */
export const API_ACTIONS = {
  create: 'evs:transfers:create',
  accept: 'evs:transfers:accept',
  delete: 'evs:transfers:delete',
  list: 'evs:transfers:list',
  get: 'evs:transfers:get',
  /** An administrator's list of every project's transfers (all_tenants). */
  listAllProjects: 'evs:transfers:list_all_projects',
  /** An administrator's delete of any project's transfer, stuck ones included. */
  forceDelete: 'evs:transfers:force_delete',
  /** Cinder's volume reads at the transfer endpoint (the caller's own project). */
  listVolumes: 'evs:volumes:list',
  getVolume: 'evs:volumes:get',
} as const;
export type ApiAction = (typeof API_ACTIONS)[keyof typeof API_ACTIONS];

/**
 * The actions that leave an API audit record, whatever their outcome: every
 * call that changes something, and every use of an administrator's reach
 * into other projects, reads included. A project's reads of its own
 * transfers are not audited.
 */
export const AUDITED_ACTIONS: ReadonlySet<ApiAction> = new Set([
  API_ACTIONS.create,
  API_ACTIONS.accept,
  API_ACTIONS.delete,
  API_ACTIONS.listAllProjects,
  API_ACTIONS.forceDelete,
]);

export interface ApiAuditFacts {
  requestId: string;
  at: number;
  action: ApiAction;
  actor: { projectId: string | null; userId: string | null };
  pathProjectId: string | null;
  target: { transferId: string | null; volumeId: string | null };
  outcome: { status: number; code: string | null };
  sourceIp: string | null;
}

export function apiAuditRecord(facts: ApiAuditFacts): OutgoingRecord {
  return {
    topic: TOPICS.apiAudit,
    key: facts.target.volumeId ?? facts.target.transferId ?? facts.requestId,
    event: {
      specversion: '1.0',
      id: `api/${facts.requestId}`,
      source: EVENT_SOURCE,
      type: CLOUD_EVENT_TYPES.ApiCallAudited,
      subject: facts.target.transferId ? `transfers/${facts.target.transferId}` : 'transfers',
      time: new Date(facts.at).toISOString(),
      datacontenttype: 'application/json',
      data: {
        request_id: facts.requestId,
        action: facts.action,
        actor_project_id: facts.actor.projectId,
        actor_user_id: facts.actor.userId,
        path_project_id: facts.pathProjectId,
        transfer_id: facts.target.transferId,
        volume_id: facts.target.volumeId,
        outcome: facts.outcome.status < 400 ? 'success' : 'failure',
        http_status: facts.outcome.status,
        error_code: facts.outcome.code,
        source_ip: facts.sourceIp,
      },
    },
  };
}

/**
 * One id per disagreement (which transfer, which disk, what kind), whatever
 * run found it: a finding that persists, or is found again by a second
 * worker, carries the id it had the first time.
 */
export function reconcilerFindingId(finding: Pick<ReconcileFinding, 'kind' | 'transferId' | 'diskId'>): string {
  return `reconciler/${finding.transferId}/${finding.diskId}/${finding.kind}`;
}

export interface ReconcilerFindingFacts {
  finding: ReconcileFinding;
  outcome: FindingOutcome;
  detectedAtMs: number;
  /** The reconcile run's workflow id, to find the run in the Temporal UI. */
  runWorkflowId: string;
}

export function reconcilerFindingRecord({ finding, outcome, detectedAtMs, runWorkflowId }: ReconcilerFindingFacts): OutgoingRecord {
  const { workflow, disk } = finding;
  return {
    topic: TOPICS.operations,
    key: finding.diskId,
    event: {
      specversion: '1.0',
      id: reconcilerFindingId(finding),
      source: EVENT_SOURCE,
      type: CLOUD_EVENT_TYPES.ReconcilerFinding,
      subject: `transfers/${finding.transferId}`,
      time: new Date(detectedAtMs).toISOString(),
      datacontenttype: 'application/json',
      data: {
        kind: finding.kind,
        transfer_id: finding.transferId,
        volume_id: finding.diskId,
        outcome,
        needs_attention: needsAttention(outcome),
        summary: describeFinding(finding, outcome),
        disk: disk === null ? null : { project_id: disk.projectId, status: disk.status, transfer_id: disk.transferId },
        workflow: workflow.found
          ? {
              found: true,
              run_status: workflow.run,
              transfer_state: workflow.state,
              volume_id: workflow.diskId,
              source_project_id: workflow.sourceProjectId,
              destination_project_id: workflow.destinationProjectId,
              recorded_status: null,
            }
          : {
              found: false,
              run_status: null,
              transfer_state: null,
              volume_id: null,
              source_project_id: null,
              destination_project_id: null,
              recorded_status: workflow.recordedStatus,
            },
        detected_at: toCinderTimestamp(detectedAtMs),
        reconcile_run_id: runWorkflowId,
      },
    },
  };
}
