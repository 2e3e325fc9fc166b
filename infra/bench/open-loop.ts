/**
 * The open-loop driver: journeys (a transfer's create, show, list and accept;
 * or the baseline's start and update) begin when the arrival schedule says
 * they are due, whether or not earlier ones have answered, and every request
 * is timed from when it was due rather than from when it was sent. That is
 * what keeps a slow answer from hiding the requests it held up ("coordinated
 * omission"): in a closed loop a stall delays the next request's start and
 * the stall is counted once; here each request due during it carries it.
 *
 * When a request is due:
 *  - a journey's first request: at the journey's arrival instant;
 *  - each later one: when the previous request of the same journey answered
 *    (a client reads the create's answer before it can show the transfer).
 * So a journey's requests add up to its whole time from arrival to the last
 * answer, and nothing the load generator itself is late with (a busy event
 * loop, a journey held back by the in-flight cap) is left out.
 *
 * There is no pool of clients: a journey starts the moment it is due. The
 * in-flight cap is only a safety valve far above what a stack that keeps up
 * needs; a journey that meets it waits (its wait counted in its latency) and
 * the number that waited is reported.
 *
 * Time comes from a Clock, so the tests drive it with simulated time.
 */
import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Resolves at (or just after) the instant; at once for an instant already past. */
  sleepUntil(at: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleepUntil: (at) =>
    new Promise<void>((resolve) => {
      const wait = at - performance.now();
      if (wait <= 0) setImmediate(resolve);
      else setTimeout(resolve, wait);
    }),
};

export interface RequestRecord<Op extends string> {
  op: Op;
  /** When the request was due: the journey's arrival, or the previous request's answer. */
  dueAt: number;
  sentAt: number;
  answeredAt: number;
}

export interface JourneyRecord<Op extends string> {
  index: number;
  /** The arrival instant the schedule gave it. */
  dueAt: number;
  /** When it was started: its due time, later if the driver was late or the cap held it. */
  startedAt: number | null;
  /** When its last request answered (or it gave up); null while it runs. */
  endedAt: number | null;
  /** True when the journey reached its end as planned (the transfer accepted). */
  ok: boolean;
  /** The requests that were answered, in order. */
  requests: RequestRecord<Op>[];
}

export interface JourneyContext<Op extends string> {
  readonly index: number;
  readonly dueAt: number;
  /** Sends one request and records its latency from when it was due; rejects as the call does. */
  request<T>(op: Op, call: () => Promise<T>): Promise<T>;
}

export interface OpenLoopSpec<Op extends string> {
  clock: Clock;
  /** Arrival instants in ms from startAt, ascending (arrivals.ts). */
  schedule: readonly number[];
  startAt: number;
  /** The safety valve: journeys running at once. */
  maxInFlight: number;
  /** How often the backlog (journeys arrived and not ended) is sampled. */
  sampleEveryMs: number;
  /** How long, after the last arrival, the driver waits for journeys to end. */
  drainLimitMs: number;
  /** One journey; resolves true when it ended as planned. A rejection counts as false. */
  journey: (context: JourneyContext<Op>) => Promise<boolean>;
}

export interface BacklogSample {
  at: number;
  /** Journeys that have arrived and not ended, those waiting for the cap included. */
  inFlight: number;
}

export interface OpenLoopOutcome<Op extends string> {
  journeys: JourneyRecord<Op>[];
  backlog: BacklogSample[];
  /** Journeys that found the in-flight cap reached and waited for a place. */
  capWaits: number;
  /** Journeys still running when the drain limit passed. */
  unfinished: number;
  /** Most journeys in flight at once. */
  maxInFlight: number;
}

export async function runOpenLoop<Op extends string>(spec: OpenLoopSpec<Op>): Promise<OpenLoopOutcome<Op>> {
  const { clock, schedule, startAt } = spec;
  const journeys: JourneyRecord<Op>[] = schedule.map((offset, index) => ({
    index,
    dueAt: startAt + offset,
    startedAt: null,
    endedAt: null,
    ok: false,
    requests: [],
  }));
  const backlog: BacklogSample[] = [];
  const waiting: JourneyRecord<Op>[] = [];
  let arrived = 0;
  let running = 0;
  let ended = 0;
  let capWaits = 0;
  let maxInFlight = 0;
  let allEnded!: () => void;
  const everyJourneyEnded = new Promise<void>((resolve) => (allEnded = resolve));
  if (journeys.length === 0) allEnded();

  const contextOf = (record: JourneyRecord<Op>): JourneyContext<Op> => {
    let nextDue = record.dueAt;
    return {
      index: record.index,
      dueAt: record.dueAt,
      request: async <T>(op: Op, call: () => Promise<T>): Promise<T> => {
        const dueAt = nextDue;
        const sentAt = clock.now();
        const result = await call();
        const answeredAt = clock.now();
        record.requests.push({ op, dueAt, sentAt, answeredAt });
        nextDue = answeredAt;
        return result;
      },
    };
  };

  const start = (record: JourneyRecord<Op>): void => {
    running++;
    record.startedAt = clock.now();
    void spec
      .journey(contextOf(record))
      .catch(() => false)
      .then((ok) => {
        record.ok = ok;
        record.endedAt = clock.now();
        running--;
        ended++;
        const next = waiting.shift();
        if (next) start(next);
        if (ended === journeys.length) allEnded();
      });
  };

  const arrive = (record: JourneyRecord<Op>): void => {
    arrived++;
    maxInFlight = Math.max(maxInFlight, arrived - ended);
    if (running < spec.maxInFlight) {
      start(record);
    } else {
      capWaits++;
      waiting.push(record);
    }
  };

  let sampling = true;
  const sampleBacklog = async (): Promise<void> => {
    for (let at = startAt; sampling; at += spec.sampleEveryMs) {
      await clock.sleepUntil(at);
      if (!sampling) return;
      backlog.push({ at: clock.now(), inFlight: arrived - ended });
    }
  };
  void sampleBacklog();

  // Arrivals: every journey whose instant has come is started, late ones at once.
  let next = 0;
  while (next < journeys.length) {
    if (clock.now() < journeys[next].dueAt) {
      await clock.sleepUntil(journeys[next].dueAt);
      continue;
    }
    while (next < journeys.length && journeys[next].dueAt <= clock.now()) arrive(journeys[next++]);
  }

  const drainUntil = clock.now() + spec.drainLimitMs;
  while (ended < journeys.length && clock.now() < drainUntil) {
    await Promise.race([everyJourneyEnded, clock.sleepUntil(Math.min(drainUntil, clock.now() + spec.sampleEveryMs))]);
  }
  sampling = false;
  return { journeys, backlog, capWaits, unfinished: journeys.length - ended, maxInFlight };
}

/** Journeys that arrived in [from, until): the ones a measured window counts, all their requests included. */
export function journeysDueIn<Op extends string>(journeys: readonly JourneyRecord<Op>[], from: number, until: number): JourneyRecord<Op>[] {
  return journeys.filter((j) => j.dueAt >= from && j.dueAt < until);
}

/** Each operation's latencies, from when each request was due to its answer. */
export function latenciesFromDue<Op extends string>(journeys: readonly JourneyRecord<Op>[], operations: readonly Op[]): Record<Op, number[]> {
  const latencies = Object.fromEntries(operations.map((op) => [op, [] as number[]])) as Record<Op, number[]>;
  for (const journey of journeys) {
    for (const request of journey.requests) latencies[request.op]?.push(request.answeredAt - request.dueAt);
  }
  return latencies;
}

/** Arrival to end of each journey that ended as planned. */
export function journeyTimes<Op extends string>(journeys: readonly JourneyRecord<Op>[]): number[] {
  return journeys.filter((j) => j.ok && j.endedAt !== null).map((j) => (j.endedAt ?? j.dueAt) - j.dueAt);
}

/** How late the driver sent anything after it was due: its own lateness and the cap's waits, which the latencies include. */
export function maxSendLagMs<Op extends string>(journeys: readonly JourneyRecord<Op>[]): number {
  let lag = 0;
  for (const journey of journeys) {
    for (const request of journey.requests) lag = Math.max(lag, request.sentAt - request.dueAt);
  }
  return lag;
}
