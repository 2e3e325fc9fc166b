/**
 * What an open-loop run found, as the JSON records it and as the tables
 * print it, and the headline fields tools read from the JSON's top level.
 */
import type { QuietOutcome } from './quiet';
import type { ArrivalProcess } from './arrivals';
import type { CpuPerUnit } from './cpu-cost';
import type { KeepUpVerdict } from './keeps-up';
import type { ProcessUsage } from './process-sampler';
import { renderColumns } from './report';
import { type LatencySummary, median, round } from './stats';
import type { TransferShape } from './workflow-shape';

export type OpenLoopSystem = 'ours' | 'baseline';

/** One rate driven for one step: warm-up, the measured window, then the drain. */
export interface OpenLoopStep {
  system: OpenLoopSystem;
  ratePerSecond: number;
  arrivals: ArrivalProcess;
  seed: number;
  warmupMs: number;
  windowMs: number;
  /** The wait, before the step, for the stack to go idle (what the previous step left behind). */
  idleBefore: QuietOutcome;
  /** Journeys due inside the window. */
  arrived: number;
  /** Completed inside the window: ours, transfers whose accepted event became readable; the baseline, updates answered. */
  complete: number;
  completePerSecond: number;
  /** Of the journeys due in the window: ended without finishing. */
  failed: number;
  /** Journeys of the step still running when the driver stopped waiting. */
  unfinished: number;
  capWaits: number;
  maxInFlight: number;
  /** Journeys in flight at each second of the window. */
  backlog: number[];
  /** Latest the driver sent a request after it was due (included in the latencies). */
  maxSendLagMs: number;
  /** Per operation, from when each request was due, for the journeys due in the window. */
  latencyMs: Record<string, LatencySummary>;
  /** Arrival to last answer, for the journeys due in the window that finished. */
  journeyMs: LatencySummary;
  verdict: KeepUpVerdict;
  /** CPU over the window per unit completed in it. */
  cpu: CpuPerUnit;
  /** Peak RSS and CPU over the whole step, warm-up and drain included. */
  memory: Record<string, ProcessUsage>;
  errors: Record<string, number>;
  /** Ours: accept answered → accepted event readable. */
  eventLagMs: LatencySummary | null;
  eventsMissing: number | null;
}

export interface SaturationSearch {
  system: OpenLoopSystem;
  round: number;
  steps: OpenLoopStep[];
  /** The highest rate kept up with below the lowest that was not; null when none was. */
  saturationRatePerSecond: number | null;
}

/** A rate measured after the search (or asked with --rate), ours and the baseline's. */
export interface MeasuredRate {
  /** Share of the saturation rate; null for a rate given with --rate. */
  share: number | null;
  ratePerSecond: number;
  ours: OpenLoopStep;
  baseline: OpenLoopStep | null;
}

export interface OpenLoopRun {
  searches: SaturationSearch[];
  /** Each round's ours ÷ baseline saturation rate. */
  ratios: number[];
  /** The median of the rounds' saturation rates (ours); null without a search or when none kept up. */
  saturationRatePerSecond: number | null;
  measured: MeasuredRate[];
  transferShape: TransferShape | null;
  /** The baseline's shape: as many ordinary activities as the transfer took steps. */
  baselineShape: { activities: number; localActivities: number } | null;
  /** Processes of each system, by name, that its total CPU covers. */
  processes: { ours: string[]; baseline: string[] };
}

/** The fields at the JSON's top level that tools read (docs/bench/latest.json). */
export interface OpenLoopHeadline {
  /** CPU of every process of the stack per completed transfer (the load generator not included), at the headline rate. */
  cpu_ms_per_transfer_total: number | null;
  /** The baseline's, per completed workflow (its worker and Temporal), at the same rate. */
  baseline_cpu_ms_per_workflow_total: number | null;
  /** Median over rounds of our saturation rate ÷ the baseline's; null without a baseline or search. */
  ratio_median: number | null;
  saturation_rate_per_s: number | null;
  p99_ms_at_70pct: { create: number; accept: number } | null;
  /** Where the CPU figures were measured, and over which processes. */
  headline_rate_per_s: number | null;
  cpu_processes: string[];
}

const HEADLINE_SHARE = 0.7;

/**
 * The rate the CPU headline is read at: 70 % of saturation after a search
 * (loaded, but keeping up); with fixed rates, the highest that kept up, or
 * failing that the highest measured.
 */
export function headlineRate(run: OpenLoopRun): MeasuredRate | null {
  const atShare = run.measured.find((m) => m.share === HEADLINE_SHARE);
  if (atShare) return atShare;
  if (run.measured.some((m) => m.share !== null)) return null;
  const byRate = [...run.measured].sort((a, b) => b.ratePerSecond - a.ratePerSecond);
  return byRate.find((m) => m.ours.verdict.keptUp) ?? byRate[0] ?? null;
}

const finiteOrNull = (v: number | null | undefined) => (v != null && Number.isFinite(v) ? v : null);

export function openLoopHeadline(run: OpenLoopRun): OpenLoopHeadline {
  const headline = headlineRate(run);
  const at70 = run.measured.find((m) => m.share === HEADLINE_SHARE);
  const create = finiteOrNull(at70?.ours.latencyMs.create?.p99);
  const accept = finiteOrNull(at70?.ours.latencyMs.accept?.p99);
  return {
    cpu_ms_per_transfer_total: finiteOrNull(headline?.ours.cpu.totalMs),
    baseline_cpu_ms_per_workflow_total: finiteOrNull(headline?.baseline?.cpu.totalMs),
    ratio_median: run.ratios.length === 0 ? null : median(run.ratios),
    saturation_rate_per_s: run.saturationRatePerSecond,
    p99_ms_at_70pct: create === null || accept === null ? null : { create, accept },
    headline_rate_per_s: headline?.ratePerSecond ?? null,
    cpu_processes: headline?.ours.cpu.totalOf ?? [],
  };
}

const num = (v: number | null | undefined, digits = 1) => (v != null && Number.isFinite(v) ? String(round(v, digits)) : '-');
const latency = (s: LatencySummary | undefined) => (s ? `${num(s.p50)} / ${num(s.p95)} / ${num(s.p99)} / ${num(s.max)}` : '-');
const errors = (e: Record<string, number>) =>
  Object.keys(e).length === 0 ? 'none' : Object.entries(e).map(([k, n]) => `${k}: ${n}`).join(', ');
const verdict = (s: OpenLoopStep) => (s.verdict.keptUp ? 'yes' : `no: ${s.verdict.reasons.join('; ')}`);

/** The search, a line per step: what each rate gave and whether the stack kept up. */
export function renderSearch(search: SaturationSearch): string {
  const lines = search.steps.map(
    (s) =>
      `  ${num(s.ratePerSecond, 2).padStart(7)}/s  ${num(s.completePerSecond).padStart(6)} complete/s  ` +
      `journey p99 ${num(s.journeyMs.p99).padStart(8)} ms  backlog ${num(s.verdict.backlogGrowth).padStart(6)}  kept up: ${verdict(s)}`,
  );
  const title = search.system === 'ours' ? 'our service' : 'baseline';
  return [`saturation search, ${title}, round ${search.round}: ${num(search.saturationRatePerSecond, 2)}/s`, ...lines].join('\n');
}

/** The processes measured beside the total (consumers, the benchmark itself), in the order measured. */
const besideTheTotal = (run: OpenLoopRun): string[] => {
  const measured = run.measured.flatMap((m) => Object.entries(m.ours.cpu.perProcessMs).filter(([, ms]) => ms != null));
  return [...new Set(measured.map(([name]) => name))].filter((name) => !run.processes.ours.includes(name));
};

/** The measured rates, a column each, ours and below it the baseline at the same rate. */
export function renderMeasured(run: OpenLoopRun): string {
  const cols = run.measured;
  const cpuRow = (system: OpenLoopSystem, name: string): [string, (m: MeasuredRate) => string] => [
    `${system === 'ours' ? 'CPU ms per transfer' : 'baseline: CPU ms per workflow'}: ${name}`,
    (m) => {
      const step = system === 'ours' ? m.ours : m.baseline;
      return num(step?.cpu.perProcessMs[name]);
    },
  ];
  const rows: [string, (m: MeasuredRate) => string][] = [
    ['arrival rate /s', (m) => num(m.ratePerSecond, 2)],
    ['journeys arrived / failed / unfinished', (m) => `${m.ours.arrived} / ${m.ours.failed} / ${m.ours.unfinished}`],
    ['complete transfers/s', (m) => num(m.ours.completePerSecond)],
    ['create ms p50/p95/p99/max', (m) => latency(m.ours.latencyMs.create)],
    ['show ms p50/p95/p99/max', (m) => latency(m.ours.latencyMs.show)],
    ['list page ms p50/p95/p99/max', (m) => latency(m.ours.latencyMs.list)],
    ['accept ms p50/p95/p99/max', (m) => latency(m.ours.latencyMs.accept)],
    ['journey ms p50/p95/p99/max', (m) => latency(m.ours.journeyMs)],
    ['event lag ms p50/p99', (m) => (m.ours.eventLagMs ? `${num(m.ours.eventLagMs.p50)} / ${num(m.ours.eventLagMs.p99)}` : '-')],
    ['kept up', (m) => (m.ours.verdict.keptUp ? 'yes' : 'no')],
    ['backlog growth / most in flight', (m) => `${num(m.ours.verdict.backlogGrowth)} / ${m.ours.maxInFlight}`],
    ['cap waits / latest send ms', (m) => `${m.ours.capWaits} / ${num(m.ours.maxSendLagMs)}`],
    ...run.processes.ours.map((name) => cpuRow('ours', name)),
    ['CPU ms per transfer: total', (m) => num(m.ours.cpu.totalMs)],
    ...besideTheTotal(run).map((name): [string, (m: MeasuredRate) => string] => [
      `CPU ms per transfer: ${name} (not in total)`,
      (m) => num(m.ours.cpu.perProcessMs[name]),
    ]),
    ['transfers complete (events missing)', (m) => `${m.ours.complete} (${m.ours.eventsMissing ?? '-'})`],
    ['errors', (m) => errors(m.ours.errors)],
  ];
  if (cols.some((m) => m.baseline)) {
    rows.push(
      ['baseline: workflows/s', (m) => num(m.baseline?.completePerSecond)],
      ['baseline: start ms p50/p99', (m) => (m.baseline ? `${num(m.baseline.latencyMs.start?.p50)} / ${num(m.baseline.latencyMs.start?.p99)}` : '-')],
      ['baseline: update ms p50/p99', (m) => (m.baseline ? `${num(m.baseline.latencyMs.update?.p50)} / ${num(m.baseline.latencyMs.update?.p99)}` : '-')],
      ['baseline: kept up', (m) => (m.baseline ? (m.baseline.verdict.keptUp ? 'yes' : 'no') : '-')],
      ...run.processes.baseline.map((name) => cpuRow('baseline', name)),
      ['baseline: CPU ms per workflow: total', (m) => num(m.baseline?.cpu.totalMs)],
      ['baseline errors', (m) => (m.baseline ? errors(m.baseline.errors) : '-')],
    );
  }
  const header = ['', ...cols.map((m) => (m.share === null ? `${num(m.ratePerSecond, 2)}/s` : `${Math.round(m.share * 100)} % of saturation`))];
  return renderColumns(header, rows.map(([label, cell]) => [label, ...cols.map(cell)]));
}

export function renderHeadline(h: OpenLoopHeadline): string {
  return [
    `saturation rate: ${num(h.saturation_rate_per_s, 2)}/s`,
    `ours / baseline (saturation rates, median of rounds): ${h.ratio_median === null ? '-' : `${num(h.ratio_median * 100)} %`}`,
    `p99 at 70 % of saturation: create ${num(h.p99_ms_at_70pct?.create)} ms, accept ${num(h.p99_ms_at_70pct?.accept)} ms`,
    `CPU per transfer at ${num(h.headline_rate_per_s, 2)}/s: ${num(h.cpu_ms_per_transfer_total)} ms (${h.cpu_processes.join(', ') || 'none measured'}); ` +
      `baseline ${num(h.baseline_cpu_ms_per_workflow_total)} ms per workflow`,
  ].join('\n');
}
