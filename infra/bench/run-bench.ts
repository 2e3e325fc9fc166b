/**
 * npm run bench: drives the running stack (infra/bench.sh starts it) with
 * the load of transfer-load.ts, then the baseline of baseline-load.ts on the
 * same Temporal server, for each number of clients asked (--rounds times
 * over, and then the ratios' median and range); or, with --open-loop, the
 * open-loop run of open-loop-run.ts; or, with --scale, the scale run of
 * scale-run.ts. Prints one table and writes the JSON.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { type AppConfig, loadConfig } from '../../libs/config/src/config';
import { runBaselineLoad } from './baseline-load';
import { BENCH_USAGE, type BenchOptions, BenchUsageError, type OpenLoopOptions, parseBenchOptions } from './bench-options';
import { log, machine } from './bench-log';
import { EventWatch } from './event-watch';
import { BenchHttpClient } from './http-client';
import { openLoopHeadline, renderHeadline, renderMeasured, renderSearch } from './open-loop-report';
import { type OpenLoopSetting, runOpenLoopBench } from './open-loop-run';
import { ProcessSampler, type ProcessTarget } from './process-sampler';
import { type ConcurrencyRun, renderRounds, renderTable, summariseRounds } from './report';
import { renderReadModel, runReadModel } from './read-model-run';
import { runScale } from './scale-run';
import { benchStack, benchTopology } from './stack-processes';
import { BenchTenants } from './tenants';
import { runTransferLoad } from './transfer-load';
import { transferShape } from './workflow-shape';

/** At most this many transfers a second per client, and in all, are expected: disks are prepared for that. */
const EXPECTED_PER_CLIENT_PER_SECOND = 15;
const EXPECTED_IN_ALL_PER_SECOND = 150;

async function startBaselineWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(__dirname, 'baseline-worker.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`baseline worker exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
  });
  return child;
}

/** What every measurement of a load run shares: the stack's processes, the watcher, the tenants, the baseline's worker. */
interface LoadSetting {
  options: BenchOptions;
  client: Client;
  pids: Record<string, ProcessTarget>;
  baselineWorker: ChildProcess | null;
  watch: EventWatch;
  tenants: BenchTenants;
  gatewayUrl: string;
}

/** One measurement of a number of clients: our service, then each baseline under the same load. */
async function measure(setting: LoadSetting, clients: number, round: number): Promise<ConcurrencyRun> {
  const { options, client, pids, baselineWorker, watch, tenants } = setting;
  const name = `${clients} clients` + (options.rounds > 1 ? `, round ${round} of ${options.rounds}` : '');
  const seconds = (options.warmupMs + options.durationMs) / 1000;
  const perClient = Math.min(EXPECTED_PER_CLIENT_PER_SECOND, EXPECTED_IN_ALL_PER_SECOND / clients);
  const disksEach = Math.ceil(seconds * perClient) + 2;
  log(`${name}: preparing ${clients * disksEach} disks`);
  const pairs = await tenants.pairs(`c${clients}r${round}-`, clients, disksEach);
  const http = new BenchHttpClient(setting.gatewayUrl, clients);
  const window = { warmupMs: options.warmupMs, durationMs: options.durationMs };
  log(`${name}: our service, ${options.warmupMs / 1000} s warm-up + ${options.durationMs / 1000} s`);
  const sampler = new ProcessSampler(pids).start();
  const ours = await runTransferLoad(http, watch, tenants, pairs, window);
  const memory = sampler.stop();
  http.close();
  const shape = ours.sampleTransferId === null ? null : await transferShape(client, ours.sampleTransferId);
  const baselines: ConcurrencyRun['baselines'] = { regular: null, sameShape: null };
  if (baselineWorker && shape !== null) {
    // As the issue defines it: as many steps as a transfer took, each an ordinary activity.
    const regular = { activities: shape.activities + shape.localActivities, localActivities: 0 };
    // And the stricter one: the same steps of the same kinds, local ones local.
    const sameShape = { activities: shape.activities, localActivities: shape.localActivities };
    for (const [kind, baselineShape] of [
      ['regular', regular],
      ['sameShape', sameShape],
    ] as const) {
      log(`${name}: baseline ${kind} (${baselineShape.activities} activities, ${baselineShape.localActivities} local)`);
      const baselineSampler = new ProcessSampler({ worker: baselineWorker.pid ?? null, temporal: pids.temporal ?? null, bench: process.pid }).start();
      const load = await runBaselineLoad(client, clients, baselineShape, window);
      const ratio = load.workflowsPerSecond > 0 ? ours.transfersPerSecond / load.workflowsPerSecond : null;
      baselines[kind] = { load, ratio, memory: baselineSampler.stop() };
    }
  }
  log(
    `${name}: ${ours.transfersPerSecond.toFixed(1)} transfers/s` +
      (baselines.regular ? `, baseline ${baselines.regular.load.workflowsPerSecond.toFixed(1)}/s` : '') +
      (baselines.sameShape ? `, same-shape baseline ${baselines.sameShape.load.workflowsPerSecond.toFixed(1)}/s` : ''),
  );
  return { clients, round, ours, baselines, memory, transferShape: shape };
}

async function loadRuns(config: AppConfig, options: BenchOptions, client: Client): Promise<ConcurrencyRun[]> {
  const stack = benchStack(config);
  for (const note of stack.notes) log(note);
  const pids: Record<string, ProcessTarget> = { ...stack.targets, bench: process.pid };
  const baselineWorker = options.baseline ? await startBaselineWorker() : null;
  const watch = await EventWatch.start(config.kafka.brokers);
  const tenants = BenchTenants.open(config);
  const setting: LoadSetting = { options, client, pids, baselineWorker, watch, tenants, gatewayUrl: stack.apiUrl };
  const runs: ConcurrencyRun[] = [];
  try {
    for (const clients of options.clients) {
      // Rounds take turns with the baselines, so a drift of the machine or of Temporal's database over the run hits both alike.
      for (let round = 1; round <= options.rounds; round++) runs.push(await measure(setting, clients, round));
    }
  } finally {
    await watch.stop();
    baselineWorker?.kill('SIGTERM');
  }
  return runs;
}

/** A connection to the bench stack as it now runs, and how to let go of it. */
interface OpenLoopSession {
  setting: OpenLoopSetting;
  close(): Promise<void>;
}

async function openLoopSession(config: AppConfig, options: BenchOptions, openLoop: OpenLoopOptions): Promise<OpenLoopSession> {
  const stack = benchStack(config);
  for (const note of stack.notes) log(note);
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const baselineWorker = options.baseline ? await startBaselineWorker() : null;
  const watch = await EventWatch.start(config.kafka.brokers);
  // As many sockets as journeys may be in flight: the agent must not become the client pool the open loop does without.
  const http = new BenchHttpClient(stack.apiUrl, openLoop.maxInFlight);
  return {
    setting: {
      config,
      options,
      openLoop,
      client,
      http,
      watch,
      tenants: BenchTenants.open(config),
      stack: { ...stack.targets, bench: process.pid },
      quietCores: stack.quietCores,
      baselineWorkerPid: baselineWorker?.pid ?? null,
    },
    // Once only: a restart that fails after closing leaves the run's own `finally` to call it again.
    close: once(async () => {
      http.close();
      await watch.stop();
      await stopChild(baselineWorker);
      await connection.close();
    }),
  };
}

function once(action: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= action());
}

/** The baseline worker drains on SIGTERM; one that has not exited after this long is killed. */
const BASELINE_WORKER_STOP_MS = 15_000;

async function stopChild(child: ChildProcess | null): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), BASELINE_WORKER_STOP_MS);
  await exited;
  clearTimeout(timer);
}

/** Runs infra/bench/fresh-stack.sh, which infra/bench.sh names in BENCH_FRESH_STACK for the stack it started. */
async function restartStack(script: string): Promise<void> {
  const child = spawn('bash', [script], { stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve(exitCode));
  });
  if (code !== 0) throw new Error(`${script} exited with ${code}: the stack could not be started again`);
}

/** The open-loop run; its headline fields go first in the JSON, for tools to read. */
async function openLoopRun(config: AppConfig, options: BenchOptions, openLoop: OpenLoopOptions): Promise<object> {
  const freshStackScript = process.env.BENCH_FRESH_STACK;
  if (openLoop.freshStacks && !freshStackScript) {
    throw new BenchUsageError(
      '--fresh-stacks restarts the one-replica stack infra/bench.sh starts itself: not the cluster topology, nor a Temporal server or Kafka given from outside',
    );
  }
  let session = await openLoopSession(config, options, openLoop);
  try {
    const freshStack =
      openLoop.freshStacks && freshStackScript
        ? async () => {
            await session.close();
            await restartStack(freshStackScript);
            session = await openLoopSession(config, options, openLoop);
            return session.setting;
          }
        : null;
    const run = await runOpenLoopBench(session.setting, freshStack);
    const headline = openLoopHeadline(run);
    for (const search of run.searches) process.stdout.write(`\n${renderSearch(search)}\n`);
    if (run.measured.length > 0) process.stdout.write(`\n${renderMeasured(run)}\n`);
    process.stdout.write(`\n${renderHeadline(headline)}\n`);
    return { ...headline, kind: 'open-loop', openLoop: run };
  } finally {
    await session.close();
  }
}

function writeReport(out: string, report: object): void {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nJSON: ${out}\n`);
}

const defaultOut = (dataDir: string, startedAt: string) => path.join(dataDir, 'bench', `bench-${startedAt.replace(/[:.]/g, '-')}.json`);

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(BENCH_USAGE);
    return;
  }
  const config = loadConfig();
  const startedAt = new Date().toISOString();
  const out = options.out ?? defaultOut(config.dataDir, startedAt);
  if (options.readModelRows !== null) {
    const readModel = await runReadModel(options.readModelRows);
    process.stdout.write(`\n${renderReadModel(readModel)}\n`);
    writeReport(out, { startedAt, machine: machine(), settings: options, kind: 'read-model', readModel });
    return;
  }
  let report: object;
  if (options.openLoop !== null) {
    report = await openLoopRun(config, options, options.openLoop);
  } else if (options.scale !== null) {
    report = { kind: 'scale', scale: await runScale(config, options) };
  } else {
    const connection = await Connection.connect({ address: config.temporal.address });
    try {
      const runs = await loadRuns(config, options, new Client({ connection, namespace: config.temporal.namespace }));
      process.stdout.write(`\n${renderTable(runs)}\n`);
      const rounds = summariseRounds(runs);
      if (rounds.length > 0) process.stdout.write(`\n${renderRounds(rounds)}\n`);
      report = { kind: 'load', runs, rounds };
    } finally {
      await connection.close();
    }
  }
  const settings = { ...options, topology: benchTopology(), temporal: config.temporal.address, kafka: config.kafka.brokers };
  // The report first: the open-loop run's headline fields lead the file.
  writeReport(out, { ...report, startedAt, machine: machine(), settings });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  if (err instanceof BenchUsageError) process.stderr.write(BENCH_USAGE);
  process.exit(err instanceof BenchUsageError ? 2 : 1);
});
