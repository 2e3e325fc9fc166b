/**
 * Every process of the stack the benchmark drives, for the process sampler:
 * the ones infra/up.sh recorded (gateway, worker, inventory, the Temporal
 * dev server, the Kafka broker's JVM, and the billing and audit consumers
 * when they run), and each local PostgreSQL cluster a store's URL names,
 * as its postmaster with every backend under it. A part that is not running
 * (a consumer bench.sh skipped, Temporal or Kafka given by address) is null.
 */
import * as path from 'node:path';
import type { AppConfig } from '../../libs/config/src/config';
import { STORE_NAMES } from '../../libs/database/src/stores';
import { findPostmasters, localPostgresPorts } from './postgres-processes';
import { type ProcessTarget, stackPids } from './process-sampler';
import { readProcessTable } from './process-tree';

export const RECORDED_PROCESSES = ['gateway', 'worker', 'inventory', 'temporal', 'kafka', 'billing', 'audit'] as const;

export interface StackProcesses {
  targets: Record<string, ProcessTarget>;
  /** What could not be found, for the log. */
  notes: string[];
}

export function stackProcesses(config: AppConfig): StackProcesses {
  const targets: Record<string, ProcessTarget> = { ...stackPids(path.join(config.dataDir, 'run'), RECORDED_PROCESSES) };
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
