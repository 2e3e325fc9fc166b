/**
 * The consumer's side of the event contract: for each CloudEvents type, the
 * fields of its data that docs/asyncapi.yaml marks required, as a schema a
 * consumer validates against before it acts. events.ts builds the data;
 * event-data.spec.ts checks that everything it builds passes here, so the
 * two sides cannot drift apart.
 *
 * Tolerant readers: a field added later within the same version is no
 * reason to refuse an event, so unknown fields pass. A new meaning gets a new
 * type (`...v2`), which a consumer that does not know it skips.
 *
 * Kept apart from events.ts because workflow code imports that file and
 * must not load zod.
 */
import { z } from 'zod';
import { CINDER_TIMESTAMP } from '../../domain/src/ids';
import { CLOUD_EVENT_TYPES } from './events';

const id = z.string().min(1);
const cinderTime = z.string().regex(CINDER_TIMESTAMP, 'a Cinder timestamp (UTC, microseconds, no zone)');

const transferBase = z.looseObject({
  transfer_id: id,
  transfer_name: z.string().nullable(),
  volume_id: id,
  source_project_id: id,
});

export const TransferCreatedData = transferBase.extend({
  source_user_id: id,
  request_id: id,
  created_at: cinderTime,
  expires_at: cinderTime,
  volume_size_gb: z.number().int(),
  volume_type: z.string(),
});

export const TransferCreateRejectedData = transferBase.extend({
  source_user_id: id,
  request_id: id,
  reason: z.string(),
  error_code: z.string(),
});

export const TransferAcceptedData = transferBase.extend({
  source_user_id: id,
  destination_project_id: id,
  destination_user_id: id,
  request_id: id,
  volume_size_gb: z.number().int(),
  volume_type: z.string(),
  accepted_at: cinderTime,
});

export const TransferDeletedData = transferBase.extend({
  deleted_by_project_id: id,
  deleted_by_user_id: id,
  request_id: id,
  deleted_at: cinderTime,
  forced: z.boolean(),
});

export const TransferExpiredData = transferBase.extend({
  expired_at: cinderTime,
});

export const AcceptAttemptFailedData = transferBase.extend({
  acting_project_id: id,
  acting_user_id: id,
  request_id: id,
  reason: z.string(),
  attempt: z.number().int().min(1),
});

export const TransferLockedOutData = transferBase.extend({
  locked_until: cinderTime,
  lockouts: z.number().int().min(1),
});

const nullableId = id.nullable();

export const ApiCallAuditedData = z.looseObject({
  request_id: id,
  action: z.string().min(1),
  actor_project_id: nullableId,
  actor_user_id: nullableId,
  path_project_id: nullableId,
  transfer_id: nullableId,
  volume_id: nullableId,
  outcome: z.enum(['success', 'failure']),
  http_status: z.number().int(),
  error_code: z.string().nullable(),
  source_ip: z.string().nullable(),
});

/** Every type the service publishes, with its data's schema. */
export const EVENT_DATA_SCHEMAS = {
  [CLOUD_EVENT_TYPES.TransferCreated]: TransferCreatedData,
  [CLOUD_EVENT_TYPES.TransferCreateRejected]: TransferCreateRejectedData,
  [CLOUD_EVENT_TYPES.TransferAccepted]: TransferAcceptedData,
  [CLOUD_EVENT_TYPES.TransferDeleted]: TransferDeletedData,
  [CLOUD_EVENT_TYPES.TransferExpired]: TransferExpiredData,
  [CLOUD_EVENT_TYPES.AcceptAttemptFailed]: AcceptAttemptFailedData,
  [CLOUD_EVENT_TYPES.TransferLockedOut]: TransferLockedOutData,
  [CLOUD_EVENT_TYPES.ApiCallAudited]: ApiCallAuditedData,
} as const;

export type KnownEventType = keyof typeof EVENT_DATA_SCHEMAS;
export type EventData<T extends KnownEventType> = z.infer<(typeof EVENT_DATA_SCHEMAS)[T]>;

/** An event of a type this version of the contract knows, its data checked. */
export type KnownEvent = { [T in KnownEventType]: { type: T; data: EventData<T> } }[KnownEventType];

export type ReadEventResult =
  | { kind: 'known'; event: KnownEvent }
  | { kind: 'unknown'; detail: string }
  | { kind: 'invalid'; detail: string };

export function isKnownEventType(type: string): type is KnownEventType {
  return Object.hasOwn(EVENT_DATA_SCHEMAS, type);
}

/**
 * Checks an event's data against its type's schema. A type this contract
 * does not name (a newer version, a new kind) is `unknown`, not invalid:
 * consumers skip it rather than treat it as damage.
 */
export function readEventData(type: string, data: unknown): ReadEventResult {
  if (!isKnownEventType(type)) return { kind: 'unknown', detail: `unknown event type ${type}` };
  const parsed = EVENT_DATA_SCHEMAS[type].safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`);
    return { kind: 'invalid', detail: `${type}: ${problems.join('; ')}` };
  }
  return { kind: 'known', event: { type, data: parsed.data } as KnownEvent };
}
