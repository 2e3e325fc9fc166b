/**
 * The report of an A/B benchmark (infra/bench/ab.sh): reads each run's JSON
 * from the A/B's folder (a-<pair>.json, b-<pair>.json), prints the
 * comparison and writes it, with every run, as one JSON file.
 *
 *   node dist/infra/bench/ab-report.js <folder> <out.json> <label A> <label B> [what]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { formatAbSummary, summarizeAb, type AbRun, type Side } from './ab-summary';

const RUN_FILE = /^([ab])-(\d+)\.json$/;

function main(): void {
  const [folder, out, labelA, labelB, what] = process.argv.slice(2);
  if (!folder || !out || !labelA || !labelB) {
    throw new Error('usage: ab-report <folder> <out.json> <label A> <label B> [what]');
  }
  const runs: Array<AbRun & { file: string }> = [];
  for (const file of readdirSync(folder).sort()) {
    const match = RUN_FILE.exec(file);
    if (!match) continue;
    const result = JSON.parse(readFileSync(path.join(folder, file), 'utf8')) as AbRun['result'];
    runs.push({ side: match[1] as Side, pair: Number(match[2]), result, file });
  }
  if (runs.length === 0) throw new Error(`no runs (a-<n>.json, b-<n>.json) in ${folder}`);
  const labels = { a: labelA, b: labelB };
  const summary = summarizeAb(runs);
  writeFileSync(
    out,
    `${JSON.stringify({ what: what ?? null, labels, summary, runs: Object.fromEntries(runs.map((run) => [`${run.side}-${run.pair}`, run.result])) }, null, 1)}\n`,
  );
  process.stdout.write(`${formatAbSummary(summary, labels)}\n\nJSON: ${out}\n`);
}

try {
  main();
} catch (err: unknown) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
