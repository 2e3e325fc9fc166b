/**
 * What the audit log keeps of an event: the event itself (data as
 * received) plus the handles it is found by: the transfer, the disk, who
 * acted, and every project it concerns. Pure.
 *
 * Who acted, per type: the creator for created and create_rejected, the
 * recipient for accepted, whoever deleted (an administrator for a
 * force-delete), the project that tried a wrong key, the API caller. Expiry
 * and lock-out are the service's own doing and name no actor.
 *
 * A project "concerns" an event as actor, as the disk's owner
 * (source_project_id; not for a rejected create, whose source is only the
 * caller, who may not own the disk), as the recipient of an accepted
 * transfer, or as the project in an API call's path (a caller from another
 * project knocking on its door shows up in its log).
 */
import { CLOUD_EVENT_TYPES, type CloudEvent } from '../../../../libs/contracts/src/events';
import { readEventData } from '../../../../libs/contracts/src/event-data';
import type { Decision } from '../../../../libs/consumer/src/event-processor';

export type ProjectRole = 'actor' | 'owner' | 'recipient' | 'path';

export interface AuditEntry {
  eventId: string;
  topic: string;
  type: string;
  timeMs: number;
  subject: string;
  key: string | null;
  transferId: string | null;
  diskId: string | null;
  actor: { projectId: string | null; userId: string | null };
  projects: { projectId: string; role: ProjectRole }[];
  /** The event's data, whole, as it arrived. */
  data: unknown;
}

type Handles = Pick<AuditEntry, 'transferId' | 'diskId' | 'actor'> & { owner?: string | null; recipient?: string | null; path?: string | null };

const NO_ACTOR = { projectId: null, userId: null };

function handlesOf(event: CloudEvent<unknown>): Decision<Handles> {
  const read = readEventData(event.type, event.data);
  if (read.kind !== 'known') return read;
  const known = read.event;
  const handles = (h: Handles): Decision<Handles> => ({ kind: 'apply', effect: h });
  switch (known.type) {
    case CLOUD_EVENT_TYPES.TransferCreated: {
      const d = known.data;
      return handles({ transferId: d.transfer_id, diskId: d.volume_id, actor: { projectId: d.source_project_id, userId: d.source_user_id }, owner: d.source_project_id });
    }
    case CLOUD_EVENT_TYPES.TransferCreateRejected: {
      const d = known.data;
      return handles({ transferId: d.transfer_id, diskId: d.volume_id, actor: { projectId: d.source_project_id, userId: d.source_user_id } });
    }
    case CLOUD_EVENT_TYPES.TransferAccepted: {
      const d = known.data;
      return handles({
        transferId: d.transfer_id,
        diskId: d.volume_id,
        actor: { projectId: d.destination_project_id, userId: d.destination_user_id },
        owner: d.source_project_id,
        recipient: d.destination_project_id,
      });
    }
    case CLOUD_EVENT_TYPES.TransferDeleted: {
      const d = known.data;
      return handles({ transferId: d.transfer_id, diskId: d.volume_id, actor: { projectId: d.deleted_by_project_id, userId: d.deleted_by_user_id }, owner: d.source_project_id });
    }
    case CLOUD_EVENT_TYPES.TransferExpired:
    case CLOUD_EVENT_TYPES.TransferLockedOut: {
      const d = known.data;
      return handles({ transferId: d.transfer_id, diskId: d.volume_id, actor: NO_ACTOR, owner: d.source_project_id });
    }
    case CLOUD_EVENT_TYPES.AcceptAttemptFailed: {
      const d = known.data;
      return handles({ transferId: d.transfer_id, diskId: d.volume_id, actor: { projectId: d.acting_project_id, userId: d.acting_user_id }, owner: d.source_project_id });
    }
    case CLOUD_EVENT_TYPES.ApiCallAudited: {
      const d = known.data;
      return handles({
        transferId: d.transfer_id,
        diskId: d.volume_id,
        actor: { projectId: d.actor_project_id, userId: d.actor_user_id },
        path: d.path_project_id,
      });
    }
  }
}

/** The entry for an event, or why there is none (a type this version does not know, or data that breaks the contract). */
export function auditEntryOf(event: CloudEvent<unknown>, record: { topic: string; key: string | null }): Decision<AuditEntry> {
  const timeMs = Date.parse(event.time);
  if (Number.isNaN(timeMs)) return { kind: 'invalid', detail: `ce_time ${event.time} is not a time` };
  const decided = handlesOf(event);
  if (decided.kind !== 'apply') return decided;
  const { owner, recipient, path, ...handles } = decided.effect;

  const projects: AuditEntry['projects'] = [];
  const concern = (projectId: string | null | undefined, role: ProjectRole) => {
    if (projectId) projects.push({ projectId, role });
  };
  concern(handles.actor.projectId, 'actor');
  concern(owner, 'owner');
  concern(recipient, 'recipient');
  concern(path, 'path');

  return {
    kind: 'apply',
    effect: { eventId: event.id, topic: record.topic, type: event.type, timeMs, subject: event.subject, key: record.key, ...handles, projects, data: event.data },
  };
}
