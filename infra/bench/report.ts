/**
 * The benchmark's one table: a row per measure, a column per number of
 * clients. The JSON written beside it holds the same runs, unrounded.
 */
import type { BaselineLoadResult } from './baseline-load';
import type { ProcessUsage } from './process-sampler';
import { type LatencySummary, median, round } from './stats';
import type { TransferLoadResult } from './transfer-load';
import type { TransferShape } from './workflow-shape';

export interface BaselineRun {
  load: BaselineLoadResult;
  /** Our complete transfers per second over this baseline's workflows per second. */
  ratio: number | null;
  /** The baseline worker's, Temporal's and the benchmark's own, over the baseline's phase. */
  memory: Record<string, ProcessUsage>;
}

export interface ConcurrencyRun {
  clients: number;
  /** Which measurement of this number of clients (from 1; --rounds). */
  round: number;
  ours: TransferLoadResult;
  baselines: {
    /** As many ordinary activities as the transfer took steps (ordinary and local): the issue's baseline. */
    regular: BaselineRun | null;
    /** The transfer's steps of the same kinds: what is left is the cost of our own code. */
    sameShape: BaselineRun | null;
  };
  /** Our processes (and Temporal's, Kafka's, the benchmark's) over our phase. */
  memory: Record<string, ProcessUsage>;
  /** What one completed transfer cost Temporal, read from its history. */
  transferShape: TransferShape | null;
}

const clientsLabel = (clients: number) => `${clients} client${clients === 1 ? '' : 's'}`;
const num = (v: number, digits = 1) => (Number.isFinite(v) ? String(round(v, digits)) : '-');
const latency = (s: LatencySummary) => `${num(s.p50)} / ${num(s.p95)} / ${num(s.p99)} / ${num(s.max)}`;
const mib = (m: ProcessUsage | undefined) => (m?.peakRssMiB == null ? '-' : String(m.peakRssMiB));
const errors = (e: Record<string, number>) =>
  Object.keys(e).length === 0 ? 'none' : Object.entries(e).map(([k, n]) => `${k}: ${n}`).join(', ');

/** CPU each process spent over a whole phase (warm-up and drain included), per cycle finished in it. */
function cpuPer(memory: Record<string, ProcessUsage>, names: string[], done: number): string {
  return names.map((n) => (memory[n]?.cpuSeconds == null || done === 0 ? '-' : num((memory[n].cpuSeconds * 1000) / done))).join(' / ');
}

function baselineRows(kind: 'regular' | 'sameShape', title: string): [string, (run: ConcurrencyRun) => string][] {
  const of = (r: ConcurrencyRun) => r.baselines[kind];
  return [
    [`${title}: shape (activities + local)`, (r) => (of(r) ? `${of(r)?.load.shape.activities} + ${of(r)?.load.shape.localActivities}` : '-')],
    [`${title}: workflows/s`, (r) => (of(r) ? num(of(r)?.load.workflowsPerSecond ?? NaN) : '-')],
    [`${title}: ours / baseline`, (r) => (of(r)?.ratio == null ? '-' : `${num((of(r)?.ratio ?? 0) * 100)} %`)],
    [`${title}: cycle ms p50/p99`, (r) => (of(r) ? `${num(of(r)?.load.cycleMs.p50 ?? NaN)} / ${num(of(r)?.load.cycleMs.p99 ?? NaN)}` : '-')],
    [
      `${title}: CPU ms per workflow: worker/temporal/bench`,
      (r) => (of(r) ? cpuPer(of(r)?.memory ?? {}, ['worker', 'temporal', 'bench'], of(r)?.load.finishedWorkflows ?? 0) : '-'),
    ],
  ];
}

export function renderTable(runs: readonly ConcurrencyRun[]): string {
  const rows: [string, (run: ConcurrencyRun) => string][] = [
    ['complete transfers/s', (r) => num(r.ours.transfersPerSecond)],
    ['create ms p50/p95/p99/max', (r) => latency(r.ours.latencyMs.create)],
    ['show ms p50/p95/p99/max', (r) => latency(r.ours.latencyMs.show)],
    ['list page ms p50/p95/p99/max', (r) => latency(r.ours.latencyMs.list)],
    ['accept ms p50/p95/p99/max', (r) => latency(r.ours.latencyMs.accept)],
    ['event lag ms p50/p99', (r) => `${num(r.ours.eventLagMs.p50)} / ${num(r.ours.eventLagMs.p99)}`],
    ['peak RSS MiB gateway', (r) => mib(r.memory.gateway)],
    ['peak RSS MiB worker', (r) => mib(r.memory.worker)],
    ['peak RSS MiB inventory', (r) => mib(r.memory.inventory)],
    ['peak RSS MiB temporal', (r) => mib(r.memory.temporal)],
    [
      'transfer history: events / workflow tasks / activities + local',
      (r) =>
        r.transferShape
          ? `${r.transferShape.historyEvents} / ${r.transferShape.workflowTasks} / ${r.transferShape.activities} + ${r.transferShape.localActivities}`
          : '-',
    ],
    ['CPU ms per transfer: gateway/worker/inventory', (r) => cpuPer(r.memory, ['gateway', 'worker', 'inventory'], r.ours.acceptedTransfers)],
    ['CPU ms per transfer: temporal/kafka/bench', (r) => cpuPer(r.memory, ['temporal', 'kafka', 'bench'], r.ours.acceptedTransfers)],
    ['transfers complete (events missing)', (r) => `${r.ours.completeTransfers} (${r.ours.eventsMissing})`],
    ['errors', (r) => errors(r.ours.errors)],
    ...baselineRows('regular', 'baseline'),
    ...baselineRows('sameShape', 'same-shape baseline'),
    [
      'baseline errors',
      (r) => [r.baselines.regular, r.baselines.sameShape].map((b) => (b ? errors(b.load.errors) : '-')).join('; '),
    ],
  ];
  const repeated = runs.some((r) => r.round > 1);
  const header = ['', ...runs.map((r) => `${clientsLabel(r.clients)}${repeated ? ` #${r.round}` : ''}`)];
  return renderColumns(header, rows.map(([label, cell]) => [label, ...runs.map(cell)]));
}

/** What repeating a number of clients gave: each round's rates and ratios, and the ratios' median and range. */
export interface RoundsSummary {
  clients: number;
  transfersPerSecond: number[];
  baselines: Record<'regular' | 'sameShape', { workflowsPerSecond: number[]; ratios: number[] } | null>;
}

/** One summary per number of clients measured more than once; none when every number was measured once. */
export function summariseRounds(runs: readonly ConcurrencyRun[]): RoundsSummary[] {
  const byClients = new Map<number, ConcurrencyRun[]>();
  for (const run of runs) byClients.set(run.clients, [...(byClients.get(run.clients) ?? []), run]);
  const baseline = (rounds: ConcurrencyRun[], kind: 'regular' | 'sameShape') => {
    const measured = rounds.map((r) => r.baselines[kind]).filter((b): b is BaselineRun => b !== null && b.ratio !== null);
    if (measured.length === 0) return null;
    return { workflowsPerSecond: measured.map((b) => b.load.workflowsPerSecond), ratios: measured.map((b) => b.ratio ?? NaN) };
  };
  return [...byClients]
    .filter(([, rounds]) => rounds.length > 1)
    .map(([clients, rounds]) => ({
      clients,
      transfersPerSecond: rounds.map((r) => r.ours.transfersPerSecond),
      baselines: { regular: baseline(rounds, 'regular'), sameShape: baseline(rounds, 'sameShape') },
    }));
}

export function renderRounds(summaries: readonly RoundsSummary[]): string {
  const each = (values: readonly number[], scale = 1) => values.map((v) => num(v * scale)).join(' / ');
  const spread = (ratios: readonly number[]) =>
    `${num(median(ratios) * 100)} % (${num(Math.min(...ratios) * 100)}-${num(Math.max(...ratios) * 100)})`;
  const baselineRows = (kind: 'regular' | 'sameShape', title: string): [string, (s: RoundsSummary) => string][] => [
    [`${title}: workflows/s, each round`, (s) => (s.baselines[kind] ? each(s.baselines[kind].workflowsPerSecond) : '-')],
    [`${title}: ours / baseline %, each round`, (s) => (s.baselines[kind] ? each(s.baselines[kind].ratios, 100) : '-')],
    [`${title}: ours / baseline, median (range)`, (s) => (s.baselines[kind] ? spread(s.baselines[kind].ratios) : '-')],
  ];
  const rows: [string, (s: RoundsSummary) => string][] = [
    ['complete transfers/s, each round', (s) => each(s.transfersPerSecond)],
    ...baselineRows('regular', 'baseline'),
    ...baselineRows('sameShape', 'same-shape baseline'),
  ];
  const header = ['rounds (ours and the baselines taking turns)', ...summaries.map((s) => clientsLabel(s.clients))];
  return renderColumns(header, rows.map(([label, cell]) => [label, ...summaries.map(cell)]));
}

/** A plain-text table: labels left-aligned in the first column, every other column right-aligned. */
export function renderColumns(header: string[], body: string[][]): string {
  const table = [header, ...body];
  const widths = header.map((_, col) => Math.max(...table.map((row) => (row[col] ?? '').length)));
  const line = (row: string[]) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
