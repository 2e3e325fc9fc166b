/**
 * Compares two sides of an A/B benchmark (infra/bench/ab.sh): the open-loop
 * runs of each side, taken in turns, reduced to the figures a change is
 * judged by (CPU per transfer by process, create and accept latency), with
 * each pair's totals beside the means, since on a shared host a pair's
 * difference says more than the means do.
 */
import type { OpenLoopStep } from './open-loop-report';
import type { LatencySummary } from './stats';

/** The figures of a measured step this reads: a narrowing of what run-bench writes (OpenLoopStep). */
export interface StepFigures {
  verdict: Pick<OpenLoopStep['verdict'], 'keptUp'>;
  cpu: Pick<OpenLoopStep['cpu'], 'perProcessMs' | 'totalMs'> & Partial<Pick<OpenLoopStep['cpu'], 'totalOf'>>;
  latencyMs: Record<string, Pick<LatencySummary, 'p50' | 'p99'> | undefined>;
}

/** The part of an open-loop run's JSON (run-bench.ts --open-loop --out) this reads. */
export interface OpenLoopRunJson {
  openLoop: { measured: Array<{ ours: StepFigures | null }> };
}

export type Side = 'a' | 'b';

export interface AbRun {
  side: Side;
  /** 1-based; each pair is one run of each side. */
  pair: number;
  result: OpenLoopRunJson;
}

export interface SideSummary {
  /** Measured steps over all of the side's runs. */
  steps: number;
  /** Whether every step kept up with its arrivals. */
  allKeptUp: boolean;
  /** Means over the steps, ms of CPU per transfer; the total is the transfer's path as run-bench sums it. */
  cpuMsPerTransfer: { total: number | null; byProcess: Record<string, number>; inTotal: string[] };
  /** Medians over the steps of each step's percentile, ms. */
  latencyMs: Record<'create' | 'accept', { p50: number | null; p99: number | null }>;
}

export interface PairSummary {
  pair: number;
  /** The mean total CPU per transfer of each side's run in this pair; null when a side has no run. */
  a: number | null;
  b: number | null;
}

export interface AbSummary {
  a: SideSummary;
  b: SideSummary;
  pairs: PairSummary[];
  /** Pairs where both sides ran and B spent less CPU per transfer than A. */
  bLowerInPairs: number;
  comparablePairs: number;
}

function stepsOf(runs: readonly AbRun[]): StepFigures[] {
  return runs.flatMap((run) => run.result.openLoop.measured.flatMap((m) => (m.ours ? [m.ours] : [])));
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((sum, v) => sum + v, 0) / values.length;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function present(values: ReadonlyArray<number | null | undefined>): number[] {
  return values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

export function summarizeSide(runs: readonly AbRun[]): SideSummary {
  const steps = stepsOf(runs);
  const processes = [...new Set(steps.flatMap((step) => Object.keys(step.cpu.perProcessMs)))].sort();
  const byProcess: Record<string, number> = {};
  for (const name of processes) {
    const value = mean(present(steps.map((step) => step.cpu.perProcessMs[name])));
    if (value !== null) byProcess[name] = value;
  }
  const latency = (call: 'create' | 'accept') => ({
    p50: median(present(steps.map((step) => step.latencyMs[call]?.p50))),
    p99: median(present(steps.map((step) => step.latencyMs[call]?.p99))),
  });
  return {
    steps: steps.length,
    allKeptUp: steps.every((step) => step.verdict.keptUp),
    cpuMsPerTransfer: {
      total: mean(present(steps.map((step) => step.cpu.totalMs))),
      byProcess,
      inTotal: [...new Set(steps.flatMap((step) => step.cpu.totalOf ?? []))].sort(),
    },
    latencyMs: { create: latency('create'), accept: latency('accept') },
  };
}

export function summarizeAb(runs: readonly AbRun[]): AbSummary {
  const pairNumbers = [...new Set(runs.map((run) => run.pair))].sort((x, y) => x - y);
  const totalOf = (side: Side, pair: number) =>
    mean(present(stepsOf(runs.filter((run) => run.side === side && run.pair === pair)).map((step) => step.cpu.totalMs)));
  const pairs = pairNumbers.map((pair) => ({ pair, a: totalOf('a', pair), b: totalOf('b', pair) }));
  const comparable = pairs.filter((p) => p.a !== null && p.b !== null);
  return {
    a: summarizeSide(runs.filter((run) => run.side === 'a')),
    b: summarizeSide(runs.filter((run) => run.side === 'b')),
    pairs,
    bLowerInPairs: comparable.filter((p) => (p.b as number) < (p.a as number)).length,
    comparablePairs: comparable.length,
  };
}

const fixed = (value: number | null | undefined, digits = 1): string => (value == null ? '-' : value.toFixed(digits));

function difference(a: number | null | undefined, b: number | null | undefined): string {
  if (a == null || b == null) return '-';
  const d = b - a;
  return `${d > 0 ? '+' : ''}${d.toFixed(1)}`;
}

/** The comparison as a plain-text table, labels as given (e.g. a revision and its settings). */
export function formatAbSummary(summary: AbSummary, labels: Record<Side, string>): string {
  const { a, b } = summary;
  const rows: string[][] = [['', `A: ${labels.a}`, `B: ${labels.b}`, 'B - A']];
  rows.push(['CPU ms per transfer, total', fixed(a.cpuMsPerTransfer.total), fixed(b.cpuMsPerTransfer.total), difference(a.cpuMsPerTransfer.total, b.cpuMsPerTransfer.total)]);
  const processes = [...new Set([...Object.keys(a.cpuMsPerTransfer.byProcess), ...Object.keys(b.cpuMsPerTransfer.byProcess)])].sort();
  for (const name of processes) {
    const x = a.cpuMsPerTransfer.byProcess[name];
    const y = b.cpuMsPerTransfer.byProcess[name];
    const counted = a.cpuMsPerTransfer.inTotal.includes(name) || b.cpuMsPerTransfer.inTotal.includes(name);
    rows.push([`  ${name}${counted ? '' : ' (beside the total)'}`, fixed(x), fixed(y), difference(x, y)]);
  }
  for (const call of ['create', 'accept'] as const) {
    for (const p of ['p50', 'p99'] as const) {
      const x = a.latencyMs[call][p];
      const y = b.latencyMs[call][p];
      rows.push([`${call} ${p} ms (median of steps)`, fixed(x, 0), fixed(y, 0), difference(x, y)]);
    }
  }
  rows.push(['steps (all kept up?)', `${a.steps} (${a.allKeptUp ? 'yes' : 'no'})`, `${b.steps} (${b.allKeptUp ? 'yes' : 'no'})`, '']);
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  const lines = rows.map((row) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join('  '));
  const pairs = summary.pairs.map((p) => `${fixed(p.a)}/${fixed(p.b)}`).join(', ');
  lines.push('');
  lines.push(`total per pair (A/B): ${pairs}; B lower in ${summary.bLowerInPairs} of ${summary.comparablePairs}`);
  return lines.join('\n');
}
