/**
 * The audit log's answers on the wire, and its page tokens: the position
 * (time, id) of a page's last entry, opaque to clients.
 */
import { isoTime, queryError } from '../../../../libs/consumer/src/query-http';
import type { StoredAuditEntry } from '../log/audit-log.store';

export interface AuditEventView {
  id: string;
  topic: string;
  type: string;
  time: string;
  subject: string;
  key: string | null;
  transfer_id: string | null;
  disk_id: string | null;
  actor: { project_id: string | null; user_id: string | null };
  data: unknown;
}

export function presentEntry(entry: StoredAuditEntry): AuditEventView {
  return {
    id: entry.eventId,
    topic: entry.topic,
    type: entry.type,
    time: isoTime(entry.timeMs),
    subject: entry.subject,
    key: entry.key,
    transfer_id: entry.transferId,
    disk_id: entry.diskId,
    actor: { project_id: entry.actor.projectId, user_id: entry.actor.userId },
    data: entry.data,
  };
}

export function pageToken(entry: StoredAuditEntry): string {
  return Buffer.from(JSON.stringify([entry.timeMs, entry.eventId]), 'utf8').toString('base64url');
}

export function readPageToken(value: unknown): { timeMs: number; eventId: string } | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string') {
    try {
      const decoded: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
      if (Array.isArray(decoded) && decoded.length === 2 && Number.isSafeInteger(decoded[0]) && typeof decoded[1] === 'string') {
        return { timeMs: decoded[0] as number, eventId: decoded[1] };
      }
    } catch {
      // Falls through to the refusal below.
    }
  }
  throw queryError('BadRequest', "Query parameter 'page_token' is not a token this service gave out.");
}
