/** The benchmark's command line (npm run bench -- ...), parsed and checked. */
import { parseArgs } from 'node:util';

export const BENCH_USAGE = `usage: npm run bench -- [options]
  --clients 50          concurrent clients; a list such as 1,10,50,100 runs each in turn
  --duration 30         seconds measured for each number of clients (ours, then each baseline)
  --warmup 5            seconds of load before measuring starts
  --rounds 1            measure each number of clients this many times, ours and the baselines
                        taking turns, and add the median and range of the ratios
  --no-baseline         skip both baselines
  --scale [10000]       instead: hold this many transfers pending and measure at that size
  --expiry-batch 1000   with --scale: transfers made to expire together
  --read-model [100000] instead: only the read model's list queries at that many rows (no stack)
  --out <file>          where the JSON goes (default: $DATA_DIR/bench/bench-<time>.json)
`;

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
  out: string | null;
}

export class BenchUsageError extends Error {}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new BenchUsageError(`${name} must be a positive whole number, not "${text}"`);
  return value;
}

export function parseBenchOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      clients: { type: 'string', default: '50' },
      duration: { type: 'string', default: '30' },
      warmup: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '1' },
      'no-baseline': { type: 'boolean', default: false },
      scale: { type: 'string' },
      'expiry-batch': { type: 'string', default: '1000' },
      'read-model': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const warmup = Number(values.warmup);
  if (!Number.isInteger(warmup) || warmup < 0) throw new BenchUsageError(`--warmup must be a whole number of seconds, not "${values.warmup}"`);
  return {
    clients: values.clients.split(',').map((c) => positiveInteger('--clients', c.trim())),
    durationMs: positiveInteger('--duration', values.duration) * 1000,
    warmupMs: warmup * 1000,
    rounds: positiveInteger('--rounds', values.rounds),
    baseline: !values['no-baseline'],
    scale: values.scale === undefined ? null : positiveInteger('--scale', values.scale),
    expiryBatch: positiveInteger('--expiry-batch', values['expiry-batch']),
    readModelRows: values['read-model'] === undefined ? null : positiveInteger('--read-model', values['read-model']),
    out: values.out ?? null,
  };
}
