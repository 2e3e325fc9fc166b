/**
 * The benchmark's one table: a row per measure, a column per number of
 * clients. The JSON written beside it holds the same runs, unrounded.
 */
import type { BaselineLoadResult } from './baseline-load';
import type { ProcessMemory } from './memory';
import { type LatencySummary, round } from './stats';
import type { TransferLoadResult } from './transfer-load';
import type { TransferShape } from './workflow-shape';

export interface ConcurrencyRun {
  clients: number;
  ours: TransferLoadResult;
  baseline: BaselineLoadResult | null;
  /** Our complete transfers per second over the baseline's workflows per second. */
  ratio: number | null;
  memory: Record<string, ProcessMemory>;
  /** What one completed transfer cost Temporal, read from its history. */
  transferShape: TransferShape | null;
}

const num = (v: number, digits = 1) => (Number.isFinite(v) ? String(round(v, digits)) : '-');
const latency = (s: LatencySummary) => `${num(s.p50)} / ${num(s.p95)} / ${num(s.p99)} / ${num(s.max)}`;
const mib = (m: ProcessMemory | undefined) => (m?.peakRssMiB == null ? '-' : String(m.peakRssMiB));
const errors = (e: Record<string, number>) =>
  Object.keys(e).length === 0 ? 'none' : Object.entries(e).map(([k, n]) => `${k}: ${n}`).join(', ');

export function renderTable(runs: readonly ConcurrencyRun[]): string {
  const rows: [string, (run: ConcurrencyRun) => string][] = [
    ['complete transfers/s', (r) => num(r.ours.transfersPerSecond)],
    ['baseline workflows/s', (r) => (r.baseline ? num(r.baseline.workflowsPerSecond) : '-')],
    ['ours / baseline', (r) => (r.ratio === null ? '-' : `${num(r.ratio * 100)} %`)],
    ['create ms p50/p95/p99/max', (r) => latency(r.ours.latencyMs.create)],
    ['show ms p50/p95/p99/max', (r) => latency(r.ours.latencyMs.show)],
    ['list page ms p50/p95/p99/max', (r) => latency(r.ours.latencyMs.list)],
    ['accept ms p50/p95/p99/max', (r) => latency(r.ours.latencyMs.accept)],
    ['event lag ms p50/p99', (r) => `${num(r.ours.eventLagMs.p50)} / ${num(r.ours.eventLagMs.p99)}`],
    ['baseline cycle ms p50/p99', (r) => (r.baseline ? `${num(r.baseline.cycleMs.p50)} / ${num(r.baseline.cycleMs.p99)}` : '-')],
    [
      'transfer history: events / workflow tasks / activities (local)',
      (r) =>
        r.transferShape
          ? `${r.transferShape.historyEvents} / ${r.transferShape.workflowTasks} / ${r.transferShape.activities} (${r.transferShape.localActivities})`
          : '-',
    ],
    ['peak RSS MiB gateway', (r) => mib(r.memory.gateway)],
    ['peak RSS MiB worker', (r) => mib(r.memory.worker)],
    ['peak RSS MiB inventory', (r) => mib(r.memory.inventory)],
    ['peak RSS MiB temporal', (r) => mib(r.memory.temporal)],
    ['transfers complete (events missing)', (r) => `${r.ours.completeTransfers} (${r.ours.eventsMissing})`],
    ['errors', (r) => `${errors(r.ours.errors)}${r.baseline ? `; baseline ${errors(r.baseline.errors)}` : ''}`],
  ];
  const header = ['', ...runs.map((r) => `${r.clients} client${r.clients === 1 ? '' : 's'}`)];
  const table = [header, ...rows.map(([label, cell]) => [label, ...runs.map(cell)])];
  const widths = header.map((_, col) => Math.max(...table.map((row) => (row[col] ?? '').length)));
  const line = (row: string[]) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0))).join('  ');
  return [line(table[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line)].join('\n');
}
