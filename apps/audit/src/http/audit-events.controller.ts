import { Controller, Get, Inject, Query } from '@nestjs/common';
import { limitParam, textParam, timeRangeParams } from '../../../../libs/consumer/src/query-http';
import { AuditLogStore } from '../log/audit-log.store';
import { type AuditEventView, pageToken, presentEntry, readPageToken } from './audit-events.presenter';

type QueryString = Record<string, unknown>;

@Controller('v1')
export class AuditEventsController {
  constructor(@Inject(AuditLogStore) private readonly store: AuditLogStore) {}

  /**
   * Audit events, oldest first, filtered by any of: project_id (as actor,
   * owner, recipient or path project), disk_id, transfer_id,
   * actor_project_id, actor_user_id, type, and the time range [from, to).
   * Pages of `limit` (default 100, at most 1000); next_page_token continues.
   */
  @Get('events')
  async events(@Query() q: QueryString): Promise<{ events: AuditEventView[]; next_page_token: string | null }> {
    const { fromMs, toMs } = timeRangeParams(q.from, q.to);
    const { entries, more } = await this.store.query({
      projectId: textParam('project_id', q.project_id),
      diskId: textParam('disk_id', q.disk_id),
      transferId: textParam('transfer_id', q.transfer_id),
      actorProjectId: textParam('actor_project_id', q.actor_project_id),
      actorUserId: textParam('actor_user_id', q.actor_user_id),
      type: textParam('type', q.type),
      fromMs,
      toMs,
      after: readPageToken(q.page_token),
      limit: limitParam(q.limit, { fallback: 100, max: 1000 }),
    });
    const last = entries.at(-1);
    return { events: entries.map(presentEntry), next_page_token: more && last ? pageToken(last) : null };
  }
}
