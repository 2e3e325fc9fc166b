/** The benchmark's command line (npm run bench -- ...), parsed and checked. */
import { parseArgs } from 'node:util';
import { ARRIVAL_PROCESSES, type ArrivalProcess } from './arrivals';

export const BENCH_USAGE = `usage: npm run bench -- [options]
  --clients 50          concurrent clients; a list such as 1,10,50,100 runs each in turn
  --duration 30         seconds measured for each number of clients (ours, then each baseline)
  --warmup 5            seconds of load before measuring starts (with --open-loop: before each step)
  --rounds 1            measure each number of clients this many times, ours and the baselines
                        taking turns, and add the median and range of the ratios
                        (with --open-loop: saturation searches, ours and the baseline's in turn)
  --no-baseline         skip the baselines
  --scale [10000]       instead: hold this many transfers pending and measure at that size
  --expiry-batch 1000   with --scale: transfers made to expire together
  --read-model [100000] instead: only the read model's list queries at that many rows (no stack)
  --out <file>          where the JSON goes (default: $DATA_DIR/bench/bench-<time>.json)

  --open-loop           instead of clients in a loop: journeys (create, show, list, accept) arrive
                        at a fixed rate whatever the stack's answers, each request timed from
                        when it was due; by default finds the saturation rate, then measures at
                        25, 50, 70 and 75 % of it, ours and then the baseline at the same rates
  --arrivals poisson    with --open-loop: poisson (seeded) or constant arrivals
  --rate R              with --open-loop: measure at this rate (journeys/s; a list such as 2,4)
                        instead of searching
  --find-saturation     with --open-loop: search for the saturation rate (the default without --rate)
  --step-duration 60    with --open-loop: seconds measured at each rate, after the warm-up
  --start-rate 4        with --open-loop: the search's first rate (journeys/s)
  --max-in-flight 1000  with --open-loop: safety valve on journeys at once (reported when reached)
  --seed 1              with --open-loop: seed of the Poisson arrivals
  --fresh-stacks        with --open-loop's search: start every saturation search, every step after
                        one the stack did not keep up with, and the measured rates, on the bench
                        stack stopped, wiped and started again, so none inherits what a rate past
                        saturation left in Temporal's database (a store on PostgreSQL keeps its
                        database)
`;

export interface OpenLoopOptions {
  arrivals: ArrivalProcess;
  /** Rates to measure at, journeys per second; null: find the saturation rate and measure at shares of it. */
  rates: number[] | null;
  stepDurationMs: number;
  startRate: number;
  maxInFlight: number;
  seed: number;
  /** Restart the stack, wiped, before each search after the first, after each step not kept up with, and before the measured rates. */
  freshStacks: boolean;
}

export interface BenchOptions {
  clients: number[];
  durationMs: number;
  warmupMs: number;
  /** Times each number of clients is measured, ours and the baselines in turn, so drift hits both alike. */
  rounds: number;
  baseline: boolean;
  /** Pending transfers to hold for a scale run; null for the load run. */
  scale: number | null;
  expiryBatch: number;
  /** Rows for the read-model-only run; null otherwise. */
  readModelRows: number | null;
  /** The open-loop run's settings; null for the closed loop (and the other runs). */
  openLoop: OpenLoopOptions | null;
  out: string | null;
}

export class BenchUsageError extends Error {}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new BenchUsageError(`${name} must be a positive whole number, not "${text}"`);
  return value;
}

function positiveNumber(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new BenchUsageError(`${name} must be a positive number, not "${text}"`);
  return value;
}

const OPEN_LOOP_ONLY = ['arrivals', 'rate', 'find-saturation', 'step-duration', 'start-rate', 'max-in-flight', 'seed', 'fresh-stacks'] as const;
const CLOSED_LOOP_ONLY = ['clients', 'duration', 'scale', 'read-model', 'expiry-batch'] as const;

export function parseBenchOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      clients: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '1' },
      'no-baseline': { type: 'boolean', default: false },
      scale: { type: 'string' },
      'expiry-batch': { type: 'string' },
      'read-model': { type: 'string' },
      'open-loop': { type: 'boolean', default: false },
      arrivals: { type: 'string' },
      rate: { type: 'string' },
      'find-saturation': { type: 'boolean' },
      'step-duration': { type: 'string' },
      'start-rate': { type: 'string' },
      'max-in-flight': { type: 'string' },
      seed: { type: 'string' },
      'fresh-stacks': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const warmup = Number(values.warmup);
  if (!Number.isInteger(warmup) || warmup < 0) throw new BenchUsageError(`--warmup must be a whole number of seconds, not "${values.warmup}"`);
  const rounds = positiveInteger('--rounds', values.rounds);
  const given = (name: string) => values[name as keyof typeof values] !== undefined;
  const openLoop = values['open-loop'];
  const misplaced = openLoop ? CLOSED_LOOP_ONLY.filter(given) : OPEN_LOOP_ONLY.filter(given);
  if (misplaced.length > 0) {
    throw new BenchUsageError(`--${misplaced[0]} ${openLoop ? 'does not apply to' : 'applies only to'} --open-loop`);
  }
  return {
    clients: (values.clients ?? '50').split(',').map((c) => positiveInteger('--clients', c.trim())),
    durationMs: positiveInteger('--duration', values.duration ?? '30') * 1000,
    warmupMs: warmup * 1000,
    rounds,
    baseline: !values['no-baseline'],
    scale: values.scale === undefined ? null : positiveInteger('--scale', values.scale),
    expiryBatch: positiveInteger('--expiry-batch', values['expiry-batch'] ?? '1000'),
    readModelRows: values['read-model'] === undefined ? null : positiveInteger('--read-model', values['read-model']),
    openLoop: openLoop ? parseOpenLoop(values, rounds) : null,
    out: values.out ?? null,
  };
}

function parseOpenLoop(values: Partial<Record<(typeof OPEN_LOOP_ONLY)[number], string | boolean>>, rounds: number): OpenLoopOptions {
  const text = (name: (typeof OPEN_LOOP_ONLY)[number], fallback: string) => {
    const value = values[name];
    return typeof value === 'string' ? value : fallback;
  };
  const arrivals = text('arrivals', 'poisson');
  if (!(ARRIVAL_PROCESSES as readonly string[]).includes(arrivals)) {
    throw new BenchUsageError(`--arrivals must be ${ARRIVAL_PROCESSES.join(' or ')}, not "${arrivals}"`);
  }
  const rateText = values.rate;
  if (typeof rateText === 'string' && values['find-saturation']) throw new BenchUsageError('--rate and --find-saturation are two different runs: choose one');
  if (typeof rateText === 'string' && rounds > 1) throw new BenchUsageError('--rounds repeats the saturation search; it does not apply to --rate');
  if (typeof rateText === 'string' && values['fresh-stacks']) {
    throw new BenchUsageError('--fresh-stacks restarts the stack between searches; with --rate there is no search (run each rate on its own instead)');
  }
  const seed = Number(text('seed', '1'));
  if (!Number.isInteger(seed) || seed < 0) throw new BenchUsageError(`--seed must be a whole number, not "${text('seed', '1')}"`);
  return {
    arrivals: arrivals as ArrivalProcess,
    rates: typeof rateText === 'string' ? rateText.split(',').map((r) => positiveNumber('--rate', r.trim())) : null,
    stepDurationMs: positiveInteger('--step-duration', text('step-duration', '60')) * 1000,
    startRate: positiveNumber('--start-rate', text('start-rate', '4')),
    maxInFlight: positiveInteger('--max-in-flight', text('max-in-flight', '1000')),
    seed,
    freshStacks: values['fresh-stacks'] === true,
  };
}
