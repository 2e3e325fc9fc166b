/**
 * npm run bench -- --open-loop: the stack under an open-loop load. Each
 * step drives one arrival rate for the warm-up and the measured window
 * (open-loop.ts), waits for every journey to end and every accepted event to
 * be readable, and judges whether the stack kept up (keeps-up.ts). Without
 * --rate it first searches for the saturation rate (saturation.ts), ours and
 * then the baseline's, --rounds times in turn, and then measures ours and
 * the baseline at 25, 50, 70 and 75 % of our saturation rate. CPU is read
 * from /proc at the window's edges and divided by what completed inside it.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../../libs/config/src/config';
import { CLOUD_EVENT_TYPES } from '../../libs/contracts/src/events';
import { arrivalSchedule } from './arrivals';
import { BASELINE_TASK_QUEUE, BASELINE_WORKFLOW_TYPE, type BaselineShape, baselineDoneUpdate } from './baseline.definitions';
import type { BenchOptions, OpenLoopOptions } from './bench-options';
import { log } from './bench-log';
import { cpuMsPerUnit } from './cpu-cost';
import type { EventWatch } from './event-watch';
import { type BenchHttpClient, createdTransfer, errorCodeOf, type TimedAnswer } from './http-client';
import { inParallel } from './in-parallel';
import { judgeStep } from './keeps-up';
import { type JourneyContext, journeyTimes, journeysDueIn, latenciesFromDue, maxSendLagMs, type OpenLoopOutcome, realClock, runOpenLoop } from './open-loop';
import type { MeasuredRate, OpenLoopRun, OpenLoopStep, OpenLoopSystem, SaturationSearch } from './open-loop-report';
import { ProcessSampler, type ProcessTarget } from './process-sampler';
import { QUIET_DEFAULTS, waitForQuiet } from './quiet';
import { MEASURED_SHARES, nextSearchRate, SEARCH_DEFAULTS, type SearchStep, saturationRate } from './saturation';
import { BESIDE_THE_TOTAL } from './stack-processes';
import { median, ratePerSecond, round, summarise } from './stats';
import type { BenchTenants, ClientPair } from './tenants';
import { OPERATIONS, type Operation } from './transfer-load';
import { transferShape, type TransferShape } from './workflow-shape';

const BASELINE_OPERATIONS = ['start', 'update'] as const;
type BaselineOperation = (typeof BASELINE_OPERATIONS)[number];

/** Owner/recipient project pairs the journeys take turns on, as many independent tenants would. */
const PROJECT_PAIRS = 50;
const LIST_PAGE_SIZE = 10;
const SAMPLE_EVERY_MS = 1000;
/** Waiting for accepted events after the last journey ended. */
const EVENT_DRAIN_MS = 30_000;
const DISK_MAKERS = 8;

export interface OpenLoopSetting {
  config: AppConfig;
  options: BenchOptions;
  openLoop: OpenLoopOptions;
  client: Client;
  http: BenchHttpClient;
  watch: EventWatch;
  tenants: BenchTenants;
  /** Every process of the stack, and the benchmark's own as `bench`. */
  stack: Record<string, ProcessTarget>;
  /** Below this many cores the stack counts as idle, ready for the next step. */
  quietCores: number;
  /** The baseline's worker; null with --no-baseline. */
  baselineWorkerPid: number | null;
}

/** What one step needs besides the rate: the system's journey and how to count what it completed. */
interface StepKind<Op extends string> {
  system: OpenLoopSystem;
  operations: readonly Op[];
  targets: Record<string, ProcessTarget>;
  /** The processes its CPU total covers. */
  inTotal: string[];
  /** Makes what `count` journeys will use (disks), before the step's clock starts. */
  prepare(count: number): Promise<Journey<Op>>;
}

interface Journey<Op extends string> {
  run(context: JourneyContext<Op>): Promise<boolean>;
  errors: Record<string, number>;
  /** After the drain: what completed inside [from, until), and anything system-specific. */
  settle(outcome: OpenLoopOutcome<Op>, from: number, until: number): Promise<Pick<OpenLoopStep, 'complete' | 'eventLagMs' | 'eventsMissing'>>;
  /** A transfer that completed, for its workflow's shape. */
  sampleTransferId(): string | null;
}

/** The same rate gives the same arrivals, ours and the baseline's alike: a step's seed is --seed and its rate. */
const stepSeed = (seed: number, rate: number) => (seed * 1_000_003 + Math.round(rate * 1000)) | 0;

const count = (errors: Record<string, number>, key: string) => (errors[key] = (errors[key] ?? 0) + 1);
const errorName = (err: unknown) => (err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.name) : 'Error');

function oursKind(setting: OpenLoopSetting, pairs: ClientPair[]): StepKind<Operation> {
  const { http, tenants, watch } = setting;
  const inTotal = Object.entries(setting.stack)
    .filter(([name, target]) => !BESIDE_THE_TOTAL.includes(name) && target !== null)
    .map(([name]) => name);
  return {
    system: 'ours',
    operations: OPERATIONS,
    targets: setting.stack,
    inTotal,
    async prepare(journeys) {
      const disks = new Array<string>(journeys);
      await inParallel([...disks.keys()], DISK_MAKERS, async (i) => {
        disks[i] = await tenants.makeDisk(pairs[i % pairs.length].owner.projectId);
      });
      const errors: Record<string, number> = {};
      /** Transfer id → when its accept was answered. */
      const accepted = new Map<string, number>();
      const expect = (op: Operation, answer: TimedAnswer, status: number): boolean => {
        if (answer.status === status) return true;
        count(errors, `${op} ${answer.status} ${errorCodeOf(answer.body) ?? ''}`.trim());
        return false;
      };
      return {
        errors,
        async run(j) {
          const pair = pairs[j.index % pairs.length];
          const transfers = `/v2/${pair.owner.projectId}/os-volume-transfer`;
          try {
            const created = await j.request('create', () =>
              http.request('POST', transfers, pair.owner.token, { transfer: { volume_id: disks[j.index], name: 'bench' } }),
            );
            if (!expect('create', created, 202)) return false;
            const { id, authKey } = createdTransfer(created.body);
            expect('show', await j.request('show', () => http.request('GET', `${transfers}/${id}`, pair.owner.token)), 200);
            expect('list', await j.request('list', () => http.request('GET', `${transfers}?limit=${LIST_PAGE_SIZE}`, pair.owner.token)), 200);
            const acceptPath = `/v2/${pair.recipient.projectId}/os-volume-transfer/${id}/accept`;
            const done = await j.request('accept', () => http.request('POST', acceptPath, pair.recipient.token, { accept: { auth_key: authKey } }));
            if (!expect('accept', done, 202)) return false;
            accepted.set(id, realClock.now());
            return true;
          } catch (err) {
            count(errors, `request failed: ${errorName(err)}`);
            return false;
          }
        },
        async settle(_outcome, from, until) {
          await watch.waitForAll(CLOUD_EVENT_TYPES.TransferAccepted, accepted.keys(), realClock.now() + EVENT_DRAIN_MS);
          const { complete, missing, lagsMs } = watch.tally(CLOUD_EVENT_TYPES.TransferAccepted, accepted, from, until);
          return { complete, eventLagMs: summarise(lagsMs), eventsMissing: missing };
        },
        sampleTransferId: () => [...accepted.keys()].find((id) => watch.seenAt(CLOUD_EVENT_TYPES.TransferAccepted, id) !== undefined) ?? null,
      };
    },
  };
}

function baselineKind(setting: OpenLoopSetting, shape: BaselineShape, workerPid: number): StepKind<BaselineOperation> {
  const { client } = setting;
  return {
    system: 'baseline',
    operations: BASELINE_OPERATIONS,
    targets: { worker: workerPid, temporal: setting.stack.temporal ?? null, bench: process.pid },
    inTotal: setting.stack.temporal == null ? ['worker'] : ['worker', 'temporal'],
    async prepare() {
      const errors: Record<string, number> = {};
      return {
        errors,
        async run(j) {
          try {
            const handle = await j.request('start', () =>
              client.workflow.start(BASELINE_WORKFLOW_TYPE, {
                taskQueue: BASELINE_TASK_QUEUE,
                workflowId: `evs-bench-baseline-${randomUUID()}`,
                args: [shape],
              }),
            );
            await j.request('update', () => handle.executeUpdate(baselineDoneUpdate));
            return true;
          } catch (err) {
            count(errors, errorName(err));
            return false;
          }
        },
        async settle(outcome, from, until) {
          const complete = outcome.journeys.filter((j) => j.ok && j.endedAt !== null && j.endedAt >= from && j.endedAt < until).length;
          return { complete, eventLagMs: null, eventsMissing: null };
        },
        sampleTransferId: () => null,
      };
    },
  };
}

async function driveStep<Op extends string>(setting: OpenLoopSetting, kind: StepKind<Op>, rate: number): Promise<{ step: OpenLoopStep; sampleTransferId: string | null }> {
  const { openLoop, options } = setting;
  const { bench: _bench, ...stackTargets } = kind.targets;
  const idleBefore = await waitForQuiet(() => new ProcessSampler(stackTargets).cpuTicks(), { ...QUIET_DEFAULTS, maxCores: setting.quietCores });
  if (idleBefore.waitedMs > QUIET_DEFAULTS.intervalMs) {
    log(`waited ${round(idleBefore.waitedMs / 1000, 1)} s for the stack to go idle${idleBefore.quiet ? '' : ` (gave up at ${round(idleBefore.cores, 2)} cores)`}`);
  }
  const seed = stepSeed(openLoop.seed, rate);
  const schedule = arrivalSchedule({ process: openLoop.arrivals, ratePerSecond: rate, durationMs: options.warmupMs + openLoop.stepDurationMs, seed });
  const journey = await kind.prepare(schedule.length);
  const sampler = new ProcessSampler(kind.targets).start();
  const startAt = realClock.now() + 100;
  const from = startAt + options.warmupMs;
  const until = from + openLoop.stepDurationMs;
  const cpuAtFrom = realClock.sleepUntil(from).then(() => sampler.cpuTicks());
  const cpuAtUntil = realClock.sleepUntil(until).then(() => sampler.cpuTicks());
  const outcome = await runOpenLoop<Op>({
    clock: realClock,
    schedule,
    startAt,
    maxInFlight: openLoop.maxInFlight,
    sampleEveryMs: SAMPLE_EVERY_MS,
    drainLimitMs: Math.max(60_000, 2 * (options.warmupMs + openLoop.stepDurationMs)),
    journey: (context) => journey.run(context),
  });
  const [before, after] = await Promise.all([cpuAtFrom, cpuAtUntil]);
  const settled = await journey.settle(outcome, from, until);
  const memory = sampler.stop();

  const inWindow = journeysDueIn(outcome.journeys, from, until);
  const failed = inWindow.filter((j) => !j.ok && j.endedAt !== null).length;
  const middle = from + openLoop.stepDurationMs / 2;
  const backlog = outcome.backlog.filter((s) => s.at >= from && s.at < until);
  const verdict = judgeStep({
    windowMs: openLoop.stepDurationMs,
    arrived: inWindow.length,
    failed,
    unfinished: outcome.unfinished,
    capWaits: outcome.capWaits,
    backlog: backlog.map((s) => ({ atMs: s.at - from, inFlight: s.inFlight })),
    journeyMsFirstHalf: journeyTimes(journeysDueIn(inWindow, from, middle)),
    journeyMsSecondHalf: journeyTimes(journeysDueIn(inWindow, middle, until)),
  });
  const latencies = latenciesFromDue(inWindow, kind.operations);
  const step: OpenLoopStep = {
    system: kind.system,
    ratePerSecond: rate,
    arrivals: openLoop.arrivals,
    seed,
    warmupMs: options.warmupMs,
    windowMs: openLoop.stepDurationMs,
    idleBefore,
    arrived: inWindow.length,
    complete: settled.complete,
    completePerSecond: ratePerSecond(settled.complete, openLoop.stepDurationMs),
    failed,
    unfinished: outcome.unfinished,
    capWaits: outcome.capWaits,
    maxInFlight: outcome.maxInFlight,
    backlog: backlog.map((s) => s.inFlight),
    maxSendLagMs: maxSendLagMs(inWindow),
    latencyMs: Object.fromEntries(kind.operations.map((op) => [op, summarise(latencies[op])])),
    journeyMs: summarise(journeyTimes(inWindow)),
    verdict,
    cpu: cpuMsPerUnit(before, after, settled.complete, kind.inTotal),
    memory,
    errors: journey.errors,
    eventLagMs: settled.eventLagMs,
    eventsMissing: settled.eventsMissing,
  };
  log(
    `${kind.system} at ${round(rate, 2)}/s: ${round(step.completePerSecond)} complete/s, journey p99 ${round(step.journeyMs.p99)} ms, ` +
      `CPU ${round(step.cpu.totalMs ?? NaN)} ms per unit; kept up: ${verdict.keptUp ? 'yes' : `no (${verdict.reasons.join('; ')})`}`,
  );
  return { step, sampleTransferId: journey.sampleTransferId() };
}

/** What a search drives, read again before each step: a fresh stack replaces both. */
type Driven<Op extends string> = () => { setting: OpenLoopSetting; kind: StepKind<Op> };

async function search<Op extends string>(
  driven: Driven<Op>,
  roundNumber: number,
  startRate: number,
  onStep: (sampleTransferId: string | null) => Promise<void>,
  afterMissedStep: () => Promise<void>,
): Promise<SaturationSearch> {
  const history: SearchStep[] = [];
  const steps: OpenLoopStep[] = [];
  const settings = { ...SEARCH_DEFAULTS, startRate };
  let rate = nextSearchRate(history, settings);
  while (rate !== null) {
    const { setting, kind } = driven();
    const { step, sampleTransferId } = await driveStep(setting, kind, rate);
    steps.push(step);
    history.push({ rate, keptUp: step.verdict.keptUp });
    await onStep(sampleTransferId);
    rate = nextSearchRate(history, settings);
    if (rate !== null && !step.verdict.keptUp) await afterMissedStep();
  }
  const { system } = driven().kind;
  const saturation = saturationRate(history);
  log(`${system}, round ${roundNumber}: saturation rate ${saturation === null ? 'not found' : `${saturation}/s`}`);
  return { system, round: roundNumber, steps, saturationRatePerSecond: saturation };
}

/**
 * With --fresh-stacks (null otherwise), `freshStack` stops the stack the current setting
 * drives, wipes it, starts it again and returns the setting for the new one:
 * each search after the first, each step after one the stack did not keep
 * up with, and the measured rates then begin on an empty Temporal. Without
 * it, a step inherits what the one before left: a rate past saturation leaves
 * thousands of workflows' history and visibility rows in the dev server's
 * SQLite file (168 MB after three baseline steps), and every later step
 * measured a slower server (the baseline completed 27.5/s before such steps
 * and 15-16/s at higher rates after them, its CPU per workflow up from 61 to
 * 105 ms).
 */
export async function runOpenLoopBench(first: OpenLoopSetting, freshStack: (() => Promise<OpenLoopSetting>) | null): Promise<OpenLoopRun> {
  const { openLoop, options } = first;
  let setting = first;
  let pairs = await setting.tenants.pairs('ol-', PROJECT_PAIRS, 0);
  let ours = oursKind(setting, pairs);
  const learned: { transfer: TransferShape | null; baselineShape: BaselineShape | null; baseline: StepKind<BaselineOperation> | null } = {
    transfer: null,
    baselineShape: null,
    baseline: null,
  };
  const baselineOf = (shape: BaselineShape | null) => (shape !== null && setting.baselineWorkerPid !== null ? baselineKind(setting, shape, setting.baselineWorkerPid) : null);
  // The baseline takes as many steps as a transfer did, each an ordinary activity: read from the first transfer that completed.
  const learnShape = async (sampleTransferId: string | null): Promise<void> => {
    if (learned.transfer !== null || sampleTransferId === null) return;
    const shape = await transferShape(setting.client, sampleTransferId);
    learned.transfer = shape;
    learned.baselineShape = { activities: shape.activities + shape.localActivities, localActivities: 0 };
    learned.baseline = baselineOf(learned.baselineShape);
  };
  const restart = async (why: string): Promise<void> => {
    if (freshStack === null) return;
    log(`${why}: stopping, wiping and starting the stack again`);
    setting = await freshStack();
    pairs = await setting.tenants.pairs('ol-', PROJECT_PAIRS, 0);
    ours = oursKind(setting, pairs);
    learned.baseline = baselineOf(learned.baselineShape);
  };
  const afterMissedStep = () => restart('the step was not kept up with');
  let phases = 0;
  /** Called before each search and before the measured rates: the first runs on the stack as it is. */
  const nextPhase = async (what: string): Promise<void> => {
    phases++;
    if (phases > 1) await restart(what);
  };
  const baselineNow = (): StepKind<BaselineOperation> => {
    if (learned.baseline === null) throw new Error('the baseline was not set up');
    return learned.baseline;
  };
  const run: OpenLoopRun = {
    searches: [],
    ratios: [],
    saturationRatePerSecond: null,
    measured: [],
    transferShape: null,
    baselineShape: null,
    processes: { ours: [...ours.inTotal], baseline: [] },
  };

  let rates: { share: number | null; rate: number }[];
  if (openLoop.rates === null) {
    const saturations: number[] = [];
    for (let n = 1; n <= options.rounds; n++) {
      await nextPhase(`round ${n} of ${options.rounds}: our service`);
      log(`round ${n} of ${options.rounds}: our service`);
      const oursSearch = await search(() => ({ setting, kind: ours }), n, openLoop.startRate, learnShape, afterMissedStep);
      run.searches.push(oursSearch);
      if (oursSearch.saturationRatePerSecond !== null) saturations.push(oursSearch.saturationRatePerSecond);
      if (learned.baseline) {
        await nextPhase(`round ${n} of ${options.rounds}: baseline`);
        log(`round ${n} of ${options.rounds}: baseline`);
        // From our saturation rate: the bare workflow is expected to go at least as fast.
        const baselineSearch = await search(
          () => ({ setting, kind: baselineNow() }),
          n,
          oursSearch.saturationRatePerSecond ?? openLoop.startRate,
          async () => undefined,
          afterMissedStep,
        );
        run.searches.push(baselineSearch);
        if (oursSearch.saturationRatePerSecond !== null && baselineSearch.saturationRatePerSecond !== null) {
          run.ratios.push(oursSearch.saturationRatePerSecond / baselineSearch.saturationRatePerSecond);
        }
      }
    }
    const saturation = saturations.length === 0 ? null : median(saturations);
    run.saturationRatePerSecond = saturation;
    rates = saturation === null ? [] : MEASURED_SHARES.map((share) => ({ share, rate: round(share * saturation, 2) }));
    if (rates.length > 0) await nextPhase('the measured rates');
  } else {
    rates = openLoop.rates.map((rate) => ({ share: null, rate }));
  }

  for (const { share, rate } of rates) {
    log(`measuring at ${rate}/s${share === null ? '' : ` (${share * 100} % of saturation)`}`);
    const { step, sampleTransferId } = await driveStep(setting, ours, rate);
    await learnShape(sampleTransferId);
    const measured: MeasuredRate = { share, ratePerSecond: rate, ours: step, baseline: null };
    // The baseline at the same arrival rate, for its CPU per workflow beside ours per transfer.
    if (learned.baseline) measured.baseline = (await driveStep(setting, learned.baseline, rate)).step;
    run.measured.push(measured);
  }
  run.transferShape = learned.transfer;
  run.baselineShape = learned.baselineShape;
  run.processes.baseline = learned.baseline ? [...learned.baseline.inTotal] : [];
  return run;
}
