/**
 * npm run bench -- --read-model 100000: the read model's list queries alone,
 * on a SQLite file holding that many pending transfers of one project (the
 * worst case for that project's list), written through the same
 * TransferReadModel the worker writes with. It needs no stack, so a size
 * the API would take an hour to fill is measured in seconds; what the HTTP
 * layer adds on top is what the scale run measures through the API.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { TransferReadModel } from '../../libs/read-model/src/transfer-read-model';
import { type LatencySummary, round, summarise } from './stats';

const SAMPLES = 1000;
const PROJECT = 'bench-read-model-owner';

export interface ReadModelResult {
  rows: number;
  fillSeconds: number;
  pagesMs: Record<string, LatencySummary>;
}

async function timed(samples: number, query: () => Promise<unknown>): Promise<LatencySummary> {
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await query();
    ms.push(performance.now() - started);
  }
  return summarise(ms);
}

export async function runReadModel(rows: number): Promise<ReadModelResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evs-read-model-bench-'));
  const model = await TransferReadModel.open({ dialect: 'sqlite', file: path.join(dir, 'read-model.sqlite') });
  try {
    const started = performance.now();
    const now = Date.now();
    for (let i = 0; i < rows; i++) {
      await model.recordPending({
        id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        name: 'bench',
        volumeId: `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        projectId: PROJECT,
        createdAtMs: now + i,
        expiresAtMs: now + 72 * 3600 * 1000,
      });
    }
    const fillSeconds = (performance.now() - started) / 1000;
    const page = (limit: number, offset: number) => () => model.listPending(PROJECT, { limit, offset });
    const pagesMs: Record<string, LatencySummary> = {
      'limit=10, first page': await timed(SAMPLES, page(10, 0)),
      'limit=100, first page': await timed(SAMPLES, page(100, 0)),
      'limit=1000 (the default), first page': await timed(SAMPLES / 10, page(1000, 0)),
      [`limit=100, offset=${rows / 2}`]: await timed(SAMPLES / 10, page(100, rows / 2)),
      [`limit=100, offset=${rows - 100}`]: await timed(SAMPLES / 10, page(100, rows - 100)),
      'all projects, limit=100': await timed(SAMPLES, () => model.listPendingAllProjects({ limit: 100, offset: 0 })),
      'show (one transfer)': await timed(SAMPLES, () => model.findPending(PROJECT, `00000000-0000-4000-8000-${String(rows - 1).padStart(12, '0')}`)),
    };
    return { rows, fillSeconds: round(fillSeconds), pagesMs };
  } finally {
    await model.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function renderReadModel(r: ReadModelResult): string {
  const ms = (s: LatencySummary) => `p50 ${round(s.p50, 2)}  p99 ${round(s.p99, 2)}  max ${round(s.max, 2)} ms`;
  return [
    `read model with ${r.rows} pending transfers of one project (filled in ${r.fillSeconds} s); the query alone, no HTTP`,
    ...Object.entries(r.pagesMs).map(([name, s]) => `  ${name.padEnd(40)}${ms(s)}`),
  ].join('\n');
}
