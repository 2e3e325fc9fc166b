/**
 * The API audit trail: one record per call of an audited action (every
 * mutating call, and an administrator's every reach into other projects:
 * AUDITED_ACTIONS), whatever its outcome, published to Kafka through
 * EVENT_PUBLISHER.
 *
 * Durable, and never in the API's way: recordOutcome() inserts the record
 * into the gateway's outbox (AuditOutbox) and resolves once it is committed,
 * before the answer is sent, so a record is stored for every answer a
 * client can see. An OutboxRelay sends the rows (ordered, batched, retried,
 * one gateway at a time on a shared outbox); record ids are deterministic
 * (`api/<request id>`), so consumers drop a copy a crash sent twice.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { apiAuditRecord, AUDITED_ACTIONS, type OutgoingRecord } from '../../../../libs/contracts/src/events';
import { isProjectId } from '../../../../libs/domain/src/ids';
import { EVENT_PUBLISHER, type EventPublisher } from '../../../../libs/kafka/src/event-publisher';
import type { RequestContext } from '../http/request-context';
import { OutboxRelay, type OutboxRelayOptions, DEFAULT_OUTBOX_RELAY_OPTIONS } from '../../../../libs/outbox/src/outbox-relay';
import { AuditOutbox } from './audit-outbox';

export type ApiAuditOptions = OutboxRelayOptions;

export const DEFAULT_API_AUDIT_OPTIONS: ApiAuditOptions = DEFAULT_OUTBOX_RELAY_OPTIONS;
export const API_AUDIT_OPTIONS = 'API_AUDIT_OPTIONS';
/** Injection token of the AuditOutbox the service writes to and relays from. */
export const AUDIT_OUTBOX = 'AUDIT_OUTBOX';

@Injectable()
export class ApiAuditService implements OnApplicationBootstrap {
  private readonly logger = new Logger('ApiAudit');
  private readonly relay: OutboxRelay;

  constructor(
    @Inject(EVENT_PUBLISHER) publisher: EventPublisher,
    @Inject(API_AUDIT_OPTIONS) options: ApiAuditOptions,
    @Inject(AUDIT_OUTBOX) private readonly outbox: AuditOutbox,
  ) {
    this.relay = new OutboxRelay(outbox, publisher, options, 'audit record');
  }

  /** Starts relaying at boot: rows a killed gateway left are sent now. */
  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
  }

  /**
   * Records the outcome of an audited call, once per request; a call that is
   * not audited (a project's own reads, unknown routes) is ignored. Awaited
   * before the answer is sent; when it resolves, the record is committed to
   * the outbox. Never rejects: a record that cannot be stored is written to
   * the error log.
   */
  async recordOutcome(context: RequestContext, status: number, errorCode: string | null): Promise<void> {
    if (context.action === null || !AUDITED_ACTIONS.has(context.action) || context.audited) return;
    context.audited = true;
    let record: OutgoingRecord;
    try {
      record = apiAuditRecord({
        requestId: context.requestId,
        at: context.startedAtMs,
        action: context.action,
        actor: { projectId: context.principal?.projectId ?? null, userId: context.principal?.userId ?? null },
        // The path segment is whatever the client wrote (refused with 403 when it is not theirs);
        // only a well-formed project id is worth a field in the audit trail.
        pathProjectId: isProjectId(context.pathProjectId) ? context.pathProjectId : null,
        target: { ...context.target },
        outcome: { status, code: errorCode },
        sourceIp: context.sourceIp,
      });
    } catch (err) {
      this.logger.error(`could not build the audit record of ${context.requestId}: ${String(err)}`);
      return;
    }
    try {
      await this.outbox.append(record);
    } catch (err) {
      this.logger.error(`could not store the audit record of ${context.requestId} (${String(err)}): ${JSON.stringify(record.event)}`);
      return;
    }
    this.relay.kick();
  }

  /** Records in the outbox, not yet acknowledged by Kafka (0 when the outbox cannot be read). */
  pending(): Promise<number> {
    return this.relay.pending();
  }

  /**
   * The last bounded attempt at shutdown, after the HTTP server stopped
   * taking requests (OutboxRelay.drain).
   */
  drain(timeoutMs: number): Promise<void> {
    return this.relay.drain(timeoutMs);
  }
}
