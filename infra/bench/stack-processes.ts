/**
 * Every process of the stack the benchmark drives, for the process sampler,
 * in either topology.
 *
 * One replica of each kind (infra/up.sh): the processes it recorded (gateway,
 * worker, inventory, the Temporal dev server, the Kafka broker's JVM, and the
 * billing and audit consumers when they run). A part that is not running (a
 * consumer bench.sh skipped, Temporal or Kafka given by address) is null.
 *
 * The cluster topology (infra/cluster.sh): each kind's replicas as one group
 * (two gateways, two workers, the Temporal server's seven services, three
 * Kafka brokers, both HAProxy instances, ...), from the pid files its scripts
 * keep in their folders.
 *
 * In both, each local PostgreSQL cluster a store's URL names is measured as
 * its postmaster with every backend under it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AppConfig } from '../../libs/config/src/config';
import { STORE_NAMES } from '../../libs/database/src/stores';
import { findPostmasters, localPostgresPorts } from './postgres-processes';
import { type ProcessGroup, type ProcessTarget, stackPid, stackPids } from './process-sampler';
import { readProcessTable } from './process-tree';
import { QUIET_DEFAULTS } from './quiet';

export const RECORDED_PROCESSES = ['gateway', 'worker', 'inventory', 'temporal', 'kafka', 'billing', 'audit'] as const;

/**
 * Measured and reported, but not part of a transfer's CPU total: the event
 * consumers read what the service published, on no call's path, and the
 * benchmark's own process is the load generator.
 */
export const BESIDE_THE_TOTAL: readonly string[] = ['billing', 'audit', 'bench'];

export interface StackProcesses {
  targets: Record<string, ProcessTarget>;
  /** What could not be found, for the log. */
  notes: string[];
}

/** The stack infra/bench.sh started: where its API is, its processes, and what counts as idle for it. */
export interface BenchStack extends StackProcesses {
  topology: 'one-replica' | 'cluster';
  apiUrl: string;
  /** Below this many cores, summed over the processes, the stack counts as idle between steps. */
  quietCores: number;
}

/**
 * The cluster at rest uses about 0.3 cores (measured: Temporal's seven
 * services 0.08, three brokers 0.1, four consumers polling them 0.05, the
 * rest little): above the one-replica stack's threshold, which it would
 * never get under. Twice its rest still tells a drained cluster from one
 * still working off a step.
 */
const CLUSTER_QUIET_CORES = 0.6;

/** Which topology bench.sh started: BENCH_TOPOLOGY=cluster with --cluster. */
export const benchTopology = (env: NodeJS.ProcessEnv = process.env): BenchStack['topology'] =>
  env.BENCH_TOPOLOGY === 'cluster' ? 'cluster' : 'one-replica';

/** The stack of benchTopology(): for the cluster, its API is the balancer's BENCH_API_URL. */
export function benchStack(config: AppConfig, env: NodeJS.ProcessEnv = process.env): BenchStack {
  if (benchTopology(env) === 'cluster') {
    const apiUrl = env.BENCH_API_URL;
    if (!apiUrl) throw new Error('BENCH_TOPOLOGY=cluster needs BENCH_API_URL, the address of the cluster API (infra/bench.sh sets both)');
    return { topology: 'cluster', apiUrl, quietCores: CLUSTER_QUIET_CORES, ...clusterProcesses(config) };
  }
  const apiUrl = `http://127.0.0.1:${config.gateway.port}`;
  return { topology: 'one-replica', apiUrl, quietCores: QUIET_DEFAULTS.maxCores, ...stackProcesses(config) };
}

export function stackProcesses(config: AppConfig): StackProcesses {
  const targets: Record<string, ProcessTarget> = { ...stackPids(path.join(config.dataDir, 'run'), RECORDED_PROCESSES) };
  return withPostgres(targets, config);
}

/**
 * The kind a cluster host's pid file names (gateway-2.pid: gateway;
 * temporal-history-1.pid: temporal), or null for one that is not on any
 * transfer's path (the Temporal Web UI server).
 */
export function clusterKindOf(pidFile: string): string | null {
  return /^([a-z]+)(?:-[a-z]+)?-\d+\.pid$/.exec(pidFile)?.[1] ?? null;
}

export function clusterProcesses(config: AppConfig): StackProcesses {
  const base = config.dataDir;
  const groups = new Map<string, ProcessGroup>();
  const missing: string[] = [];
  const add = (kind: string, member: ProcessGroup['members'][number] | null, file: string) => {
    if (member === null) {
      missing.push(file);
      return;
    }
    const group = groups.get(kind) ?? { members: [] };
    group.members.push(member);
    groups.set(kind, group);
  };
  for (const runDir of [path.join(base, 'run'), path.join(base, 'temporal', 'run')]) {
    for (const file of listDir(runDir).sort()) {
      const kind = clusterKindOf(file);
      if (kind !== null) add(kind, stackPid(runDir, file.slice(0, -'.pid'.length)), path.join(runDir, file));
    }
  }
  for (const dir of listDir(base).filter((name) => /^kafka-\d+$/.test(name)).sort()) {
    add('kafka', stackPid(path.join(base, dir), 'kafka'), path.join(base, dir, 'kafka.pid'));
  }
  // HAProxy runs a master and a worker under it: the API's balancer and Temporal's frontends' one.
  for (const dir of [path.join(base, 'haproxy'), path.join(base, 'temporal', 'haproxy')]) {
    const pid = stackPid(dir, 'haproxy');
    add('haproxy', pid === null ? null : { pid, tree: true }, path.join(dir, 'haproxy.pid'));
  }
  const targets: Record<string, ProcessTarget> = Object.fromEntries(groups);
  const result = withPostgres(targets, config);
  for (const file of missing) result.notes.push(`${file}: no running process; its kind is measured without it`);
  return result;
}

function withPostgres(targets: Record<string, ProcessTarget>, config: AppConfig): StackProcesses {
  const notes: string[] = [];
  const ports = localPostgresPorts(STORE_NAMES.map((store) => config.databases[store]));
  if (ports.length > 0) {
    const found = findPostmasters(readProcessTable(), ports);
    for (const [port, pid] of found) {
      const name = ports.length === 1 ? 'postgres' : `postgres:${port}`;
      targets[name] = pid === null ? null : { pid, tree: true };
      if (pid === null) notes.push(`no postmaster serving port ${port} was found on this machine: its CPU is not counted`);
    }
  }
  return { targets, notes };
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
