import { describe, expect, it } from 'vitest';
import { type Clock, journeyTimes, journeysDueIn, latenciesFromDue, maxSendLagMs, type OpenLoopSpec, runOpenLoop } from './open-loop';
import { percentile } from './stats';

/** Simulated time: timers fire in order, each once everything the last one set going has run. */
class SimulatedClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: { at: number; seq: number; wake: () => void }[] = [];

  /** @param lateBy how much later than asked a timer fires (a busy event loop). */
  constructor(private readonly lateBy: (at: number) => number = () => 0) {}

  now(): number {
    return this.t;
  }

  sleepUntil(at: number): Promise<void> {
    return new Promise((wake) => this.timers.push({ at: Math.max(at, this.t) + this.lateBy(at), seq: this.seq++, wake }));
  }

  /** Advances time until `work` settles; fails if it waits on nothing. */
  async run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) return work;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next) throw new Error('the simulation waits on nothing');
      this.t = next.at;
      next.wake();
    }
  }
}

/** A server that handles one request at a time, in arrival order, and may stall for a while. */
class SerialServer {
  private busyUntil = 0;

  constructor(
    private readonly clock: Clock,
    private readonly stalledUntil = 0,
  ) {}

  handle(serviceMs: number): Promise<void> {
    const begins = Math.max(this.clock.now(), this.busyUntil, this.stalledUntil);
    this.busyUntil = begins + serviceMs;
    return this.clock.sleepUntil(this.busyUntil);
  }
}

type Op = 'create' | 'show';

function spec(clock: Clock, schedule: number[], journey: OpenLoopSpec<Op>['journey'], overrides: Partial<OpenLoopSpec<Op>> = {}): OpenLoopSpec<Op> {
  return { clock, schedule, startAt: 0, maxInFlight: 1000, sampleEveryMs: 1000, drainLimitMs: 60_000, journey, ...overrides };
}

describe('runOpenLoop', () => {
  it('times a request held up by a slow one from when it was due, not from when it could be sent', async () => {
    // Three arrivals 100 ms apart; the first answer takes 250 ms, the others 10 ms;
    // the cap (1) makes the second wait for the first, as a closed loop would.
    const clock = new SimulatedClock();
    const server = new SerialServer(clock);
    const outcome = await clock.run(
      runOpenLoop(
        spec(
          clock,
          [0, 100, 200],
          async (j) => {
            await j.request('create', () => server.handle(j.index === 0 ? 250 : 10));
            return true;
          },
          { maxInFlight: 1 },
        ),
      ),
    );
    expect(outcome.journeys.map((j) => j.startedAt)).toEqual([0, 250, 260]);
    expect(latenciesFromDue(outcome.journeys, ['create']).create).toEqual([250, 160, 70]);
    // A closed loop would have timed the send-to-answer: 250, 10, 10.
    expect(outcome.journeys.map((j) => j.requests[0].answeredAt - j.requests[0].sentAt)).toEqual([250, 10, 10]);
    expect(outcome.capWaits).toBe(2);
    expect(maxSendLagMs(outcome.journeys)).toBe(150);
  });

  it('keeps sending through a stall, so every request due during it carries it', async () => {
    const clock = new SimulatedClock();
    const server = new SerialServer(clock, 1000);
    const schedule = Array.from({ length: 20 }, (_, i) => i * 100);
    const outcome = await clock.run(
      runOpenLoop(
        spec(clock, schedule, async (j) => {
          await j.request('create', () => server.handle(10));
          return true;
        }),
      ),
    );
    const create = latenciesFromDue(outcome.journeys, ['create']).create;
    // Sent on time (no client waited for another) ...
    expect(outcome.journeys.map((j) => j.startedAt)).toEqual(schedule);
    expect(outcome.capWaits).toBe(0);
    // ... and answered in turn once the stall ends at 1000: 1010 ms for the first, 920 for the next, ...
    expect(create).toEqual([1010, 920, 830, 740, 650, 560, 470, 380, 290, 200, 110, 20, 10, 10, 10, 10, 10, 10, 10, 10]);
    // A closed loop's one client would have sent one request into the stall and timed 19 of 10 ms: p50 10, p95 10.
    const sorted = [...create].sort((a, b) => a - b);
    expect(percentile(sorted, 50)).toBe(110);
    expect(percentile(sorted, 95)).toBe(920);
    expect(outcome.maxInFlight).toBe(11);
  });

  it('makes each later request of a journey due when the previous one answered', async () => {
    const clock = new SimulatedClock();
    const server = new SerialServer(clock);
    const outcome = await clock.run(
      runOpenLoop(
        spec(clock, [500], async (j) => {
          await j.request('create', () => server.handle(50));
          await clock.sleepUntil(clock.now() + 5); // the client reading the answer
          await j.request('show', () => server.handle(30));
          return true;
        }),
      ),
    );
    const [journey] = outcome.journeys;
    expect(journey.requests).toEqual([
      { op: 'create', dueAt: 500, sentAt: 500, answeredAt: 550 },
      { op: 'show', dueAt: 550, sentAt: 555, answeredAt: 585 },
    ]);
    expect(latenciesFromDue(outcome.journeys, ['create', 'show'])).toEqual({ create: [50], show: [35] });
    expect(journeyTimes(outcome.journeys)).toEqual([85]);
  });

  it('counts the driver being late in the latency (a busy event loop fires timers late)', async () => {
    const clock = new SimulatedClock(() => 40);
    const server = new SerialServer(clock);
    const outcome = await clock.run(
      runOpenLoop(
        spec(clock, [100, 300], async (j) => {
          await j.request('create', () => server.handle(10));
          return true;
        }),
      ),
    );
    // Each arrival was started 40 ms late, and each answer took 40 ms (the timer) + 10 ms.
    expect(outcome.journeys.map((j) => j.startedAt)).toEqual([140, 340]);
    expect(latenciesFromDue(outcome.journeys, ['create']).create).toEqual([90, 90]);
  });

  it('samples a backlog that grows when answers come slower than arrivals', async () => {
    const clock = new SimulatedClock();
    const server = new SerialServer(clock);
    // Off the whole seconds, so no arrival or answer falls on a sampling instant.
    const schedule = Array.from({ length: 50 }, (_, i) => 30 + i * 100);
    const outcome = await clock.run(
      runOpenLoop(
        spec(
          clock,
          schedule,
          async (j) => {
            await j.request('create', () => server.handle(150));
            return true;
          },
          { sampleEveryMs: 1000 },
        ),
      ),
    );
    const during = outcome.backlog.filter((s) => s.at < 5000).map((s) => s.inFlight);
    // 10 arrivals a second, fewer than 7 answered: about 3.3 more in flight each second.
    expect(during).toEqual([0, 4, 7, 11, 14]);
    expect(outcome.unfinished).toBe(0);
    // The last, due at 4930, is answered 50 services of 150 ms after the first arrival.
    expect(journeyTimes(outcome.journeys).at(-1)).toBe(30 + 50 * 150 - 4930);
  });

  it('gives up waiting at the drain limit and reports what never ended; failures end a journey without counting as done', async () => {
    const clock = new SimulatedClock();
    const outcome = await clock.run(
      runOpenLoop(
        spec(
          clock,
          [0, 10, 20],
          async (j) => {
            if (j.index === 0) return new Promise<boolean>(() => undefined);
            if (j.index === 1) throw new Error('connection refused');
            await j.request('create', () => clock.sleepUntil(clock.now() + 5));
            return false;
          },
          { drainLimitMs: 2000 },
        ),
      ),
    );
    expect(outcome.unfinished).toBe(1);
    expect(outcome.journeys.map((j) => j.ok)).toEqual([false, false, false]);
    expect(outcome.journeys[0].endedAt).toBeNull();
    expect(journeyTimes(outcome.journeys)).toEqual([]);
    // An answer is a latency even when the journey then fails.
    expect(latenciesFromDue(outcome.journeys, ['create']).create).toEqual([5]);
  });
});

describe('journeysDueIn', () => {
  it('counts a journey in the window it arrived in, wherever its requests end', () => {
    const j = (dueAt: number) => ({ index: 0, dueAt, startedAt: dueAt, endedAt: dueAt + 5000, ok: true, requests: [] });
    expect(journeysDueIn([j(999), j(1000), j(1500), j(2000)], 1000, 2000).map((x) => x.dueAt)).toEqual([1000, 1500]);
  });
});
