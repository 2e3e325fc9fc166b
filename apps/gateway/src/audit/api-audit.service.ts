/**
 * The API audit trail: one record per call of an audited action (every
 * mutating call, and an administrator's every reach into other projects:
 * AUDITED_ACTIONS), whatever its outcome, published to Kafka through
 * EVENT_PUBLISHER.
 *
 * Durable, and never in the API's way: recordOutcome() inserts the record
 * into the gateway's outbox (AuditOutbox) and resolves once it is committed,
 * before the answer is sent, so a record is stored for every answer a
 * client can see. A relay loop in this service publishes the outbox's rows
 * in insertion order, in batches, and deletes them only once Kafka
 * acknowledged them, retrying with back-off while Kafka is away. It starts
 * at boot (sending what a killed gateway left behind) and makes a last
 * bounded attempt at shutdown; what is still unsent then stays in the
 * outbox for the next start.
 *
 * Gateways that share one outbox (PostgreSQL) relay one at a time (see
 * AuditOutbox.relay): a gateway that finds another relaying waits a poll
 * interval and asks again, and an idle gateway looks at the outbox every
 * poll interval, so rows a stopped gateway left are sent by the others.
 *
 * At least once, with harmless duplicates: a crash between Kafka's ack and
 * the delete re-sends those rows. Record ids are deterministic
 * (`api/<request id>`), so consumers drop the second copy.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { apiAuditRecord, AUDITED_ACTIONS, type OutgoingRecord } from '../../../../libs/contracts/src/events';
import { isProjectId } from '../../../../libs/domain/src/ids';
import { EVENT_PUBLISHER, type EventPublisher } from '../../../../libs/kafka/src/event-publisher';
import type { RequestContext } from '../http/request-context';
import { AuditOutbox } from './audit-outbox';

export interface ApiAuditOptions {
  /** Most rows sent in one publish. */
  batchSize: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** How often an idle relay looks at the outbox, and one that found another gateway relaying asks again. */
  pollMs: number;
}

export const DEFAULT_API_AUDIT_OPTIONS: ApiAuditOptions = {
  batchSize: 100,
  minBackoffMs: 200,
  maxBackoffMs: 30_000,
  pollMs: 1000,
};
export const API_AUDIT_OPTIONS = 'API_AUDIT_OPTIONS';
/** Injection token of the AuditOutbox the service writes to and relays from. */
export const AUDIT_OUTBOX = 'AUDIT_OUTBOX';

@Injectable()
export class ApiAuditService implements OnApplicationBootstrap {
  private readonly logger = new Logger('ApiAudit');
  private pumping: Promise<void> | null = null;
  /** A record was stored while the relay was running: it runs once more when done. */
  private kickedWhilePumping = false;
  /** The idle relay's next look at the outbox. */
  private idlePoll: NodeJS.Timeout | null = null;
  private backoffMs: number;
  private wake: (() => void) | null = null;
  private failuresInRow = 0;
  /** Set once the shutdown drain is over: the relay sends nothing more. */
  private stopped = false;

  constructor(
    @Inject(EVENT_PUBLISHER) private readonly publisher: EventPublisher,
    @Inject(API_AUDIT_OPTIONS) private readonly options: ApiAuditOptions,
    @Inject(AUDIT_OUTBOX) private readonly outbox: AuditOutbox,
  ) {
    this.backoffMs = options.minBackoffMs;
  }

  /** Starts relaying at boot: rows a killed gateway left are sent now. */
  async onApplicationBootstrap(): Promise<void> {
    const left = await this.pending();
    if (left > 0) this.logger.log(`${left} audit record(s) left in the outbox by an earlier run; sending them`);
    this.kick();
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
    this.kick();
  }

  /** Records in the outbox, not yet acknowledged by Kafka (0 when the outbox cannot be read). */
  async pending(): Promise<number> {
    try {
      return await this.outbox.count();
    } catch {
      return 0;
    }
  }

  /**
   * The last bounded attempt at shutdown, after the HTTP server stopped
   * taking requests: sends what the outbox holds, waiting at most timeoutMs,
   * then stops the relay. What is still unsent stays in the outbox and is
   * sent at the next start (or by another gateway sharing the outbox).
   */
  async drain(timeoutMs: number): Promise<void> {
    this.kick();
    this.wake?.();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      while (this.pumping !== null) {
        if ((await Promise.race([this.pumping, deadline])) === 'timeout') break;
      }
    } finally {
      clearTimeout(timer);
      this.stopped = true;
      this.cancelIdlePoll();
      this.wake?.();
    }
    const left = await this.pending();
    if (left > 0) this.logger.warn(`${left} audit record(s) not published before shutdown; kept in the outbox for the next start`);
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.pumping !== null) {
      this.kickedWhilePumping = true;
      return;
    }
    this.cancelIdlePoll();
    this.kickedWhilePumping = false;
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      // A record stored while the last batch was in flight is sent now.
      if (this.kickedWhilePumping) this.kick();
      else this.scheduleIdlePoll();
    });
  }

  /**
   * Relays until the outbox is empty. Another gateway relaying is not a
   * failure: it sends the rows in order, and this one asks again a poll
   * interval later, until it finds the outbox empty itself.
   */
  private async pump(): Promise<void> {
    while (!this.stopped) {
      try {
        const turn = await this.outbox.relay(this.options.batchSize, (records) => this.publisher.publish(records));
        if (!turn.relayed) {
          await this.sleep(this.options.pollMs);
          continue;
        }
        if (turn.rows === 0) break;
        if (this.failuresInRow > 0) this.logger.log(`audit publishing recovered after ${this.failuresInRow} failure(s)`);
        this.failuresInRow = 0;
        this.backoffMs = this.options.minBackoffMs;
      } catch (err) {
        this.failuresInRow += 1;
        if (this.failuresInRow === 1 || this.failuresInRow % 10 === 0) {
          this.logger.warn(
            `publishing audit records failed (${this.failuresInRow} in a row, ${await this.pending()} in the outbox): ${
              err instanceof Error ? err.message : String(err)
            }`,
          );
        }
        await this.sleep(this.backoffMs);
        this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs);
      }
    }
    this.failuresInRow = 0;
  }

  /**
   * The idle relay looks again after a poll interval: on a shared outbox,
   * another gateway may have stopped with rows unsent, and nothing in this
   * one would kick the relay for them. Unref'd: it never holds the process open.
   */
  private scheduleIdlePoll(): void {
    if (this.stopped || this.idlePoll !== null) return;
    this.idlePoll = setTimeout(() => {
      this.idlePoll = null;
      this.kick();
    }, this.options.pollMs);
    this.idlePoll.unref();
  }

  private cancelIdlePoll(): void {
    if (this.idlePoll === null) return;
    clearTimeout(this.idlePoll);
    this.idlePoll = null;
  }

  /** A back-off pause; drain() cuts it short. Unref'd: it never holds the process open. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
    });
  }
}
