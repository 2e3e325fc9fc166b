/**
 * Our service under load: each client, over and over, takes a fresh disk
 * of its owner project through the seed's cycle against the public API,
 * create → show → list page → accept (by its recipient project), timing each
 * call as the client sees it. A transfer is complete once its accepted event
 * is readable on Kafka. Calls started before the warm-up ended are not
 * counted, nor are completions outside the measured window.
 */
import { performance } from 'node:perf_hooks';
import { CLOUD_EVENT_TYPES } from '../../libs/contracts/src/events';
import type { EventWatch } from './event-watch';
import { type BenchHttpClient, createdTransfer, errorCodeOf, type TimedAnswer } from './http-client';
import { type LatencySummary, ratePerSecond, summarise } from './stats';
import type { BenchTenants, ClientPair } from './tenants';

export const OPERATIONS = ['create', 'show', 'list', 'accept'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface LoadWindow {
  warmupMs: number;
  durationMs: number;
}

export interface TransferLoadResult {
  clients: number;
  measuredMs: number;
  /** Accepted, with the accepted event readable, within the measured window. */
  completeTransfers: number;
  /** Accepted over the whole phase, warm-up included: what the phase's CPU time was spent on. */
  acceptedTransfers: number;
  transfersPerSecond: number;
  latencyMs: Record<Operation, LatencySummary>;
  /** Accept answered → accepted event readable (0 when the event was readable first). */
  eventLagMs: LatencySummary;
  /** Accepted transfers whose event never showed within the drain time. */
  eventsMissing: number;
  /** Unexpected answers, by operation and status. */
  errors: Record<string, number>;
  disksMadeDuringRun: number;
  /** One transfer that completed, for reading its history; null when none did. */
  sampleTransferId: string | null;
}

const DRAIN_MS = 30_000;
const LIST_PAGE_SIZE = 10;

export async function runTransferLoad(
  http: BenchHttpClient,
  watch: EventWatch,
  tenants: BenchTenants,
  pairs: ClientPair[],
  window: LoadWindow,
): Promise<TransferLoadResult> {
  const latencies: Record<Operation, number[]> = { create: [], show: [], list: [], accept: [] };
  const errors: Record<string, number> = {};
  /** Transfer id → when its accept was answered. */
  const accepted = new Map<string, number>();
  const disksMadeBefore = tenants.disksMadeDuringRun;
  const start = performance.now();
  const measureFrom = start + window.warmupMs;
  const measureUntil = measureFrom + window.durationMs;

  const timed = async (operation: Operation, expected: number, answer: Promise<TimedAnswer>): Promise<TimedAnswer | null> => {
    const started = performance.now();
    const result = await answer;
    if (started >= measureFrom && started < measureUntil) latencies[operation].push(result.ms);
    if (result.status !== expected) {
      const key = `${operation} ${result.status} ${errorCodeOf(result.body) ?? ''}`.trim();
      errors[key] = (errors[key] ?? 0) + 1;
      return null;
    }
    return result;
  };

  const client = async (pair: ClientPair): Promise<void> => {
    const transfers = `/v2/${pair.owner.projectId}/os-volume-transfer`;
    while (performance.now() < measureUntil) {
      const volumeId = await tenants.nextDisk(pair);
      const created = await timed(
        'create',
        202,
        http.request('POST', transfers, pair.owner.token, { transfer: { volume_id: volumeId, name: 'bench' } }),
      );
      if (created === null) continue;
      const { id, authKey } = createdTransfer(created.body);
      await timed('show', 200, http.request('GET', `${transfers}/${id}`, pair.owner.token));
      await timed('list', 200, http.request('GET', `${transfers}?limit=${LIST_PAGE_SIZE}`, pair.owner.token));
      const acceptPath = `/v2/${pair.recipient.projectId}/os-volume-transfer/${id}/accept`;
      const done = await timed('accept', 202, http.request('POST', acceptPath, pair.recipient.token, { accept: { auth_key: authKey } }));
      if (done !== null) accepted.set(id, performance.now());
    }
  };

  await Promise.all(pairs.map(client));
  await watch.waitForAll(CLOUD_EVENT_TYPES.TransferAccepted, accepted.keys(), performance.now() + DRAIN_MS);

  const { complete, missing, lagsMs } = watch.tally(CLOUD_EVENT_TYPES.TransferAccepted, accepted, measureFrom, measureUntil);
  return {
    clients: pairs.length,
    measuredMs: window.durationMs,
    completeTransfers: complete,
    acceptedTransfers: accepted.size,
    transfersPerSecond: ratePerSecond(complete, window.durationMs),
    latencyMs: {
      create: summarise(latencies.create),
      show: summarise(latencies.show),
      list: summarise(latencies.list),
      accept: summarise(latencies.accept),
    },
    eventLagMs: summarise(lagsMs),
    eventsMissing: missing,
    errors,
    disksMadeDuringRun: tenants.disksMadeDuringRun - disksMadeBefore,
    sampleTransferId: [...accepted.keys()].find((id) => watch.seenAt(CLOUD_EVENT_TYPES.TransferAccepted, id) !== undefined) ?? null,
  };
}
