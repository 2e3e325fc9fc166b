/**
 * npm run bench -- --scale N: N transfers held pending at once (made through
 * the public API), then, at that size: the memory of worker and Temporal,
 * list-page latency of the read model, the time to accept one transfer
 * among them, and a batch of transfers (made through a second gateway whose
 * transfers live a short time) expiring together.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AppConfig } from '../../libs/config/src/config';
import { CLOUD_EVENT_TYPES } from '../../libs/contracts/src/events';
import type { BenchOptions } from './bench-options';
import { EventWatch } from './event-watch';
import { BenchHttpClient, createdTransfer, errorCodeOf } from './http-client';
import { ProcessSampler, type ProcessUsage, stackPids } from './process-sampler';
import { log } from './bench-log';
import { type LatencySummary, round, summarise } from './stats';
import { inParallel } from './in-parallel';
import { type BenchProject, BenchTenants } from './tenants';

const CREATORS = 32;
/** Samples per list-page measurement, and accepts of transfers among the many. */
const LIST_SAMPLES = 200;
const ACCEPT_SAMPLES = 20;
/** The expiry batch's transfers live this long past the time it took to make them all. */
const EXPIRY_MARGIN_MS = 15_000;
const EXPIRY_WAIT_MS = 300_000;

export interface ScaleResult {
  pending: number;
  makeSeconds: number;
  madePerSecond: number;
  createErrors: Record<string, number>;
  /** Resident memory with every transfer pending: peak over the run and at rest afterwards. */
  memory: Record<string, ProcessUsage>;
  listPageMs: Record<string, LatencySummary>;
  /** Accepting a transfer made early on (its workflow long out of the worker's cache). */
  acceptAmongMs: LatencySummary;
  expiry: {
    transfers: number;
    /** How far apart the first and last expiry instants were. */
    instantsSpreadSeconds: number;
    /** Expiry instant → expired event readable. */
    lagMs: LatencySummary;
    /** First expiry instant → last expired event readable. */
    allExpiredAfterSeconds: number;
    missing: number;
  } | null;
}

interface Made {
  id: string;
  authKey: string;
  createdAt: number;
}

async function makeTransfers(
  http: BenchHttpClient,
  tenants: BenchTenants,
  owner: BenchProject,
  count: number,
  errors: Record<string, number>,
): Promise<Made[]> {
  const made: Made[] = [];
  let lastLog = performance.now();
  await inParallel(
    Array.from({ length: count }, (_, i) => i),
    CREATORS,
    async () => {
      const volumeId = await tenants.makeDisk(owner.projectId);
      const answer = await http.request('POST', `/v2/${owner.projectId}/os-volume-transfer`, owner.token, {
        transfer: { volume_id: volumeId, name: 'bench-scale' },
      });
      if (answer.status !== 202) {
        const key = `create ${answer.status} ${errorCodeOf(answer.body) ?? ''}`.trim();
        errors[key] = (errors[key] ?? 0) + 1;
        return;
      }
      made.push({ ...createdTransfer(answer.body), createdAt: performance.now() });
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`  ${made.length} of ${count} made`);
      }
    },
  );
  return made;
}

async function timedPages(http: BenchHttpClient, token: string, pathAndQuery: string): Promise<LatencySummary> {
  const samples: number[] = [];
  for (let i = 0; i < LIST_SAMPLES; i++) {
    const answer = await http.request('GET', pathAndQuery, token);
    if (answer.status !== 200) throw new Error(`GET ${pathAndQuery} answered ${answer.status}`);
    samples.push(answer.ms);
  }
  return summarise(samples);
}

async function startShortLivedGateway(config: AppConfig, ttlSeconds: number): Promise<{ url: string; child: ChildProcess }> {
  const port = config.gateway.port + 10;
  const logFile = path.join(config.dataDir, 'logs', 'bench-expiry-gateway.log');
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [path.join(__dirname, '../../apps/gateway/src/main.js')], {
    env: { ...process.env, GATEWAY_PORT: String(port), TRANSFER_TTL_SECONDS: String(ttlSeconds) },
    stdio: ['ignore', out, out],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the short-lived gateway exited; see ${logFile}`);
    const healthy = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (healthy) return { url, child };
    if (Date.now() > deadline) throw new Error(`the short-lived gateway did not start; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function expireBatch(config: AppConfig, tenants: BenchTenants, watch: EventWatch, count: number): Promise<ScaleResult['expiry']> {
  const owner = await tenants.project('expiry-a');
  // A first guess of how long making the batch takes; the transfers must all exist before the first expires.
  const probeHttp = new BenchHttpClient(`http://127.0.0.1:${config.gateway.port}`, CREATORS);
  const probeStart = performance.now();
  await makeTransfers(probeHttp, tenants, owner, Math.min(50, count), {});
  const perTransferMs = (performance.now() - probeStart) / Math.min(50, count);
  probeHttp.close();
  const ttlSeconds = Math.ceil((perTransferMs * count * 1.5 + EXPIRY_MARGIN_MS) / 1000);
  const gateway = await startShortLivedGateway(config, ttlSeconds);
  try {
    const http = new BenchHttpClient(gateway.url, CREATORS);
    log(`expiry batch: ${count} transfers living ${ttlSeconds} s`);
    const made = await makeTransfers(http, tenants, owner, count, {});
    http.close();
    const due = new Map(made.map((m) => [m.id, m.createdAt + ttlSeconds * 1000]));
    const firstDue = Math.min(...due.values());
    const lastDue = Math.max(...due.values());
    await watch.waitForAll(CLOUD_EVENT_TYPES.TransferExpired, due.keys(), lastDue + EXPIRY_WAIT_MS);
    const lags: number[] = [];
    let lastSeen = firstDue;
    let missing = 0;
    for (const [id, dueAt] of due) {
      const seenAt = watch.seenAt(CLOUD_EVENT_TYPES.TransferExpired, id);
      if (seenAt === undefined) {
        missing++;
        continue;
      }
      lags.push(Math.max(0, seenAt - dueAt));
      lastSeen = Math.max(lastSeen, seenAt);
    }
    return {
      transfers: made.length,
      instantsSpreadSeconds: round((lastDue - firstDue) / 1000),
      lagMs: summarise(lags),
      allExpiredAfterSeconds: round((lastSeen - firstDue) / 1000),
      missing,
    };
  } finally {
    gateway.child.kill('SIGTERM');
  }
}

export async function runScale(config: AppConfig, options: BenchOptions): Promise<ScaleResult> {
  const count = options.scale ?? 0;
  const pids = stackPids(path.join(config.dataDir, 'run'), ['gateway', 'worker', 'inventory', 'temporal']);
  const sampler = new ProcessSampler(pids).start(1000);
  const watch = await EventWatch.start(config.kafka.brokers);
  const tenants = BenchTenants.open(config);
  const http = new BenchHttpClient(`http://127.0.0.1:${config.gateway.port}`, CREATORS);
  try {
    const owner = await tenants.project('scale-a');
    const recipient = await tenants.project('scale-b');
    const admin = await tenants.project('scale-admin', ['admin']);
    log(`making ${count} pending transfers through the API, ${CREATORS} at a time`);
    const createErrors: Record<string, number> = {};
    const started = performance.now();
    const made = await makeTransfers(http, tenants, owner, count, createErrors);
    const makeSeconds = (performance.now() - started) / 1000;
    log(`${made.length} pending after ${makeSeconds.toFixed(0)} s; measuring list pages`);

    const list = `/v2/${owner.projectId}/os-volume-transfer`;
    const deep = Math.max(0, made.length - 100);
    const listPageMs: Record<string, LatencySummary> = {
      'limit=10, first page': await timedPages(http, owner.token, `${list}?limit=10`),
      'limit=100, first page': await timedPages(http, owner.token, `${list}?limit=100`),
      [`limit=100, offset=${deep}`]: await timedPages(http, owner.token, `${list}?limit=100&offset=${deep}`),
      'default page (1000), with details': await timedPages(http, owner.token, `${list}/detail`),
      'all projects (admin), limit=100': await timedPages(http, admin.token, `/v2/${admin.projectId}/os-volume-transfer?all_tenants=1&limit=100`),
    };

    log('accepting transfers made early on, one at a time');
    const acceptSamples: number[] = [];
    for (const transfer of made.slice(0, ACCEPT_SAMPLES)) {
      const answer = await http.request('POST', `/v2/${recipient.projectId}/os-volume-transfer/${transfer.id}/accept`, recipient.token, {
        accept: { auth_key: transfer.authKey },
      });
      if (answer.status !== 202) throw new Error(`accept answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      acceptSamples.push(answer.ms);
    }
    const memory = sampler.stop();

    const expiry = options.expiryBatch > 0 ? await expireBatch(config, tenants, watch, options.expiryBatch) : null;
    const result: ScaleResult = {
      pending: made.length,
      makeSeconds: round(makeSeconds),
      madePerSecond: round(made.length / makeSeconds),
      createErrors,
      memory,
      listPageMs,
      acceptAmongMs: summarise(acceptSamples),
      expiry,
    };
    process.stdout.write(`\n${renderScale(result)}\n`);
    return result;
  } finally {
    http.close();
    await watch.stop();
  }
}

/** Wide enough for the longest label ("list default page (1000), with details"). */
const LABEL_WIDTH = 44;

export function renderScale(r: ScaleResult): string {
  const ms = (s: LatencySummary) => `p50 ${round(s.p50)}  p95 ${round(s.p95)}  p99 ${round(s.p99)}  max ${round(s.max)} ms`;
  const mem = (name: string) => `${r.memory[name]?.peakRssMiB ?? '-'} peak / ${r.memory[name]?.lastRssMiB ?? '-'} at rest MiB`;
  const row = (label: string, value: string) => `${label.padEnd(LABEL_WIDTH)}${value}`;
  const lines = [
    row('pending transfers held', `${r.pending} (made in ${r.makeSeconds} s, ${r.madePerSecond}/s)`),
    ...['worker', 'temporal', 'gateway', 'inventory'].map((name) => row(`${name} RSS`, mem(name))),
    ...Object.entries(r.listPageMs).map(([page, s]) => row(`list ${page}`, ms(s))),
    row('accept one among them', ms(r.acceptAmongMs)),
  ];
  if (r.expiry) {
    lines.push(
      row(
        'expiry batch',
        `${r.expiry.transfers} transfers due within ${r.expiry.instantsSpreadSeconds} s; ` +
          `all expired ${r.expiry.allExpiredAfterSeconds} s after the first was due; ${r.expiry.missing} missing`,
      ),
      row('expiry lag (due → event)', ms(r.expiry.lagMs)),
    );
  }
  if (Object.keys(r.createErrors).length > 0) lines.push(row('create errors', JSON.stringify(r.createErrors)));
  return lines.join('\n');
}
