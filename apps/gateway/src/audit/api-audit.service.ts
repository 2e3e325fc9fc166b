/**
 * The API audit trail: one record per mutating call (create, accept,
 * delete), whatever its outcome, published to Kafka through EVENT_PUBLISHER.
 *
 * Publishing must never fail or slow the API: records go into an in-memory
 * queue that a background loop sends in batches, retrying with back-off
 * while Kafka is away. The queue is bounded (the oldest record is dropped,
 * and logged, past the bound) and drained at shutdown; a record that cannot
 * be sent before the drain deadline is written to the log instead of being
 * lost silently. Record ids are `api/<request id>`, so a record sent twice
 * is dropped by consumers.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { apiAuditRecord, type OutgoingRecord } from '../../../../libs/contracts/src/events';
import { EVENT_PUBLISHER, type EventPublisher } from '../../../../libs/kafka/src/event-publisher';
import type { RequestContext } from '../http/request-context';

export interface ApiAuditOptions {
  maxQueued: number;
  batchSize: number;
  minBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_API_AUDIT_OPTIONS: ApiAuditOptions = {
  maxQueued: 10_000,
  batchSize: 100,
  minBackoffMs: 200,
  maxBackoffMs: 30_000,
};
export const API_AUDIT_OPTIONS = 'API_AUDIT_OPTIONS';

@Injectable()
export class ApiAuditService {
  private readonly logger = new Logger('ApiAudit');
  private readonly queue: OutgoingRecord[] = [];
  private pumping: Promise<void> | null = null;
  private backoffMs: number;
  private wake: (() => void) | null = null;
  private failuresInRow = 0;

  constructor(
    @Inject(EVENT_PUBLISHER) private readonly publisher: EventPublisher,
    @Inject(API_AUDIT_OPTIONS) private readonly options: ApiAuditOptions,
  ) {
    this.backoffMs = options.minBackoffMs;
  }

  /**
   * Records the outcome of an audited call, once per request; a call that is
   * not audited (reads, unknown routes) is ignored. Never throws.
   */
  recordOutcome(context: RequestContext, status: number, errorCode: string | null): void {
    if (context.action === null || context.audited) return;
    context.audited = true;
    try {
      this.enqueue(
        apiAuditRecord({
          requestId: context.requestId,
          at: context.startedAtMs,
          action: context.action,
          actor: { projectId: context.principal?.projectId ?? null, userId: context.principal?.userId ?? null },
          pathProjectId: context.pathProjectId,
          target: { ...context.target },
          outcome: { status, code: errorCode },
          sourceIp: context.sourceIp,
        }),
      );
    } catch (err) {
      this.logger.error(`could not build the audit record of ${context.requestId}: ${String(err)}`);
    }
  }

  /** Records still waiting to be published. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Sends what is queued, waiting at most timeoutMs; what is still unsent
   * then is logged. Called at shutdown, after the HTTP server stopped taking
   * requests.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.queue.length > 0) this.kick();
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
    }
    if (this.queue.length > 0) {
      const lost = this.queue.splice(0, this.queue.length);
      this.logger.error(`${lost.length} audit record(s) not published before shutdown`);
      for (const record of lost) this.logger.error(`unpublished audit record: ${JSON.stringify(record.event)}`);
    }
  }

  private enqueue(record: OutgoingRecord): void {
    this.queue.push(record);
    if (this.queue.length > this.options.maxQueued) {
      const [dropped] = this.queue.splice(0, 1);
      this.logger.error(`audit queue full; dropped: ${JSON.stringify(dropped?.event)}`);
    }
    this.kick();
  }

  private kick(): void {
    if (this.pumping !== null) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      // A record queued while the last batch was in flight is sent now.
      if (this.queue.length > 0) this.kick();
    });
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.options.batchSize);
      try {
        await this.publisher.publish(batch);
        this.dropSent(batch);
        if (this.failuresInRow > 0) this.logger.log(`audit publishing recovered after ${this.failuresInRow} failure(s)`);
        this.failuresInRow = 0;
        this.backoffMs = this.options.minBackoffMs;
      } catch (err) {
        this.failuresInRow += 1;
        if (this.failuresInRow === 1 || this.failuresInRow % 10 === 0) {
          this.logger.warn(
            `publishing ${batch.length} audit record(s) failed (${this.failuresInRow} in a row, ${this.queue.length} queued): ${
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

  /** The queue may have been trimmed from the front while the batch was in flight. */
  private dropSent(batch: readonly OutgoingRecord[]): void {
    const sent = new Set(batch);
    let n = 0;
    while (n < this.queue.length && sent.has(this.queue[n])) n++;
    this.queue.splice(0, n);
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
