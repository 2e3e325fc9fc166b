/**
 * The loop that empties an outbox (RecordOutbox) onto Kafka: rows in
 * insertion order, in batches, each deleted only once Kafka acknowledged it,
 * retried with back-off while Kafka is away. Started at boot (sending what a
 * killed process left behind), kicked after each append, and given a last
 * bounded attempt at shutdown; what is still unsent then stays in the
 * outbox for the next start.
 *
 * A kicked relay waits lingerMs before it sends, so that one Kafka request
 * (and one turn of the outbox) carries every row appended meanwhile: under
 * load, most rows otherwise went one by one. Shutdown's drain does not wait.
 *
 * Replicas that share one outbox (PostgreSQL) relay one at a time (see
 * RecordOutbox.relay): one that finds another relaying waits a poll
 * interval and asks again, and an idle relay looks at the outbox every poll
 * interval, so rows a stopped replica left are sent by the others.
 *
 * At least once, with harmless duplicates: a crash between Kafka's ack and
 * the delete re-sends those rows. Record ids are deterministic, so
 * consumers drop the second copy.
 */
import { Logger } from '@nestjs/common';
import type { EventPublisher } from '../../kafka/src/event-publisher';
import type { OutboxLook } from './record-outbox';

export interface OutboxRelayOptions {
  /** Most rows sent in one publish. */
  batchSize: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** How often an idle relay looks at the outbox, and one that found another replica relaying asks again. */
  pollMs: number;
  /** How long a kicked relay waits for more rows before it sends (0: at once). */
  lingerMs: number;
}

export const DEFAULT_OUTBOX_RELAY_OPTIONS: OutboxRelayOptions = {
  batchSize: 100,
  minBackoffMs: 200,
  maxBackoffMs: 30_000,
  pollMs: 1000,
  lingerMs: 20,
};

export class OutboxRelay {
  private readonly logger: Logger;
  private pumping: Promise<void> | null = null;
  /** A row was stored while the relay was running: it runs once more when done. */
  private kickedWhilePumping = false;
  /** The idle relay's next look at the outbox. */
  private idlePoll: NodeJS.Timeout | null = null;
  /** A kicked relay's wait for more rows before it sends. */
  private linger: NodeJS.Timeout | null = null;
  private backoffMs: number;
  private wake: (() => void) | null = null;
  private failuresInRow = 0;
  /** Set once the shutdown drain is over: the relay sends nothing more. */
  private stopped = false;

  /** `what` names the rows in log lines ("audit record", "transfer event"). */
  constructor(
    private readonly outbox: OutboxLook,
    private readonly publisher: EventPublisher,
    private readonly options: OutboxRelayOptions,
    private readonly what: string,
  ) {
    this.logger = new Logger(`OutboxRelay(${what})`);
    this.backoffMs = options.minBackoffMs;
  }

  /** Starts relaying: rows a killed process left are sent now. */
  async start(): Promise<void> {
    const left = await this.pending();
    if (left > 0) this.logger.log(`${left} ${this.what}(s) left in the outbox by an earlier run; sending them`);
    this.kick();
  }

  /** Rows were appended: send them once the linger is over, or right after the batch in flight. */
  kick(): void {
    if (this.stopped || this.linger !== null) return;
    if (this.pumping !== null) {
      this.kickedWhilePumping = true;
      return;
    }
    this.cancelIdlePoll();
    if (this.options.lingerMs > 0) {
      this.linger = setTimeout(() => {
        this.linger = null;
        this.pumpNow();
      }, this.options.lingerMs);
      this.linger.unref();
      return;
    }
    this.pumpNow();
  }

  private pumpNow(): void {
    if (this.stopped || this.pumping !== null) return;
    this.cancelLinger();
    this.kickedWhilePumping = false;
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      // A row stored while the last batch was in flight is sent now.
      if (this.kickedWhilePumping) this.kick();
      else this.scheduleIdlePoll();
    });
  }

  /** Rows in the outbox, not yet acknowledged by Kafka (0 when the outbox cannot be read). */
  async pending(): Promise<number> {
    try {
      return await this.outbox.count();
    } catch {
      return 0;
    }
  }

  /**
   * The last bounded attempt at shutdown, once nothing appends any more:
   * sends what the outbox holds, waiting at most timeoutMs, then stops the
   * relay. What is still unsent stays in the outbox for the next start (or
   * another replica sharing it).
   */
  async drain(timeoutMs: number): Promise<void> {
    this.pumpNow();
    this.wake?.();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      while (this.pumping !== null) {
        if ((await Promise.race([this.pumping, deadline])) === 'timeout') break;
        // Rows stored while that batch was in flight wait out no linger now.
        if (this.linger !== null) this.pumpNow();
      }
    } finally {
      clearTimeout(timer);
      this.stopped = true;
      this.cancelIdlePoll();
      this.cancelLinger();
      this.wake?.();
    }
    const left = await this.pending();
    if (left > 0) this.logger.warn(`${left} ${this.what}(s) not published before shutdown; kept in the outbox for the next start`);
  }

  /**
   * Relays until the outbox is empty. Another replica relaying is not a
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
        if (this.failuresInRow > 0) this.logger.log(`publishing recovered after ${this.failuresInRow} failure(s)`);
        this.failuresInRow = 0;
        this.backoffMs = this.options.minBackoffMs;
        // Another look would find only rows that kicked this relay again (see OutboxLook.soleRelay).
        if (this.outbox.soleRelay && turn.rows < this.options.batchSize) break;
      } catch (err) {
        this.failuresInRow += 1;
        if (this.failuresInRow === 1 || this.failuresInRow % 10 === 0) {
          this.logger.warn(
            `publishing ${this.what}s failed (${this.failuresInRow} in a row, ${await this.pending()} in the outbox): ${
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
   * another replica may have stopped with rows unsent, and nothing in this
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

  private cancelLinger(): void {
    if (this.linger === null) return;
    clearTimeout(this.linger);
    this.linger = null;
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
