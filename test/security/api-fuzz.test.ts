/**
 * Schemathesis (PyPI, pinned in fuzz-requirements.txt, installed into
 * .tools/fuzz-venv) against the live test stack's /openapi.json: every
 * operation, positive and negative data, undeclared methods, and stateful
 * sequences that follow the document's links, as one real project with a
 * real token and real disks. Every check is on: no 5xx, status codes,
 * content types, headers and bodies as documented, invalid data refused,
 * valid data accepted, 405 with Allow for undeclared methods, 401 without
 * the token.
 *
 * Bounded by time (EVS_FUZZ_SECONDS, default 90) so the file takes about
 * two minutes on two cores; the seed is fixed (EVS_FUZZ_SEED to change it)
 * so a failure reproduces. The reports (JSON, and a HAR of every request)
 * stay in $DATA_DIR/fuzz/ for inspection. npm test runs it once, in its
 * second pass, against stores on PostgreSQL (test/support/passes.ts).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { harnessInventory } from '../support/inventory';
import { SECOND_PASS_ONLY } from '../support/passes';
import { ensureVenv } from '../support/python-venv';
import { ROOT_DIR, testStack } from '../support/stack';
import { issueToken, uniqueProjectId } from '../support/tenants';

const run = promisify(execFile);

const HERE = path.join(ROOT_DIR, 'test/security');
const FUZZ_SECONDS = Number(process.env.EVS_FUZZ_SECONDS ?? 90);
const FUZZ_SEED = process.env.EVS_FUZZ_SEED ?? '20261128';
/** Disks the fuzzer's creates may lock; a locked one answers 409 until a delete frees it. */
const DISKS = 8;
const KEPT_RUNS = 3;

interface RunReport {
  exit_code: number;
  test_cases: { generated: number; with_failures: number; unique_failures: number; errored: number };
  failures: { code: string; title: string; operations: string[] }[];
  errors: unknown[];
  operations: { selected: number; tested: number };
}

interface Har {
  log: { entries: { request: { method: string }; response: { status: number } }[] };
}

function onlyFile(dir: string, prefix: string): string {
  const found = fs.readdirSync(dir).filter((f) => f.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one ${prefix}* report in ${dir}, found ${found.join(', ') || 'none'}`);
  return path.join(dir, found[0]);
}

/** Schemathesis' failure section, for the assertion message. */
function failureSection(output: string): string {
  const start = output.indexOf('FAILURES');
  return start < 0 ? output.slice(-6000) : output.slice(start, start + 12_000);
}

describe.skipIf(SECOND_PASS_ONLY)('the API under schemathesis', () => {
  it(
    'answers every generated request without a 5xx and as its OpenAPI document says',
    async () => {
      const venv = await ensureVenv({ name: 'fuzz-venv', requirements: path.join(HERE, 'fuzz-requirements.txt') });
      const stack = testStack();
      const project = uniqueProjectId('fuzz');
      const inventory = harnessInventory();
      const disks: string[] = [];
      for (let i = 0; i < DISKS; i += 1) disks.push((await inventory.createVolume(project, { size: 10, name: `fuzz-${i}` })).id);

      // Outside the work tree: schemathesis and Hypothesis leave folders in their working directory.
      const runsDir = path.join(stack.dataDir, 'fuzz');
      const runDir = path.join(runsDir, new Date().toISOString().replace(/[:.]/g, '-'));
      fs.mkdirSync(runDir, { recursive: true });
      // A run's HAR is several megabytes: keep the last few.
      for (const old of fs.readdirSync(runsDir).sort().slice(0, -KEPT_RUNS)) fs.rmSync(path.join(runsDir, old), { recursive: true, force: true });
      const args = [
        '--config-file',
        path.join(HERE, 'schemathesis.toml'),
        'run',
        `${stack.gatewayUrl}/openapi.json`,
        '--checks',
        'all',
        '--max-time',
        String(FUZZ_SECONDS),
        '--workers',
        '1',
        '--seed',
        FUZZ_SEED,
        '--no-color',
        '--report',
        'json,har',
        '--report-dir',
        runDir,
      ];
      let output: string;
      try {
        ({ stdout: output } = await run(path.join(venv, 'bin', 'schemathesis'), args, {
          cwd: runDir,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: process.env.HOME ?? '/tmp',
            PYTHONDONTWRITEBYTECODE: '1',
            EVS_FUZZ_TOKEN: await issueToken(project, 'fuzzer'),
            EVS_FUZZ_PROJECT: project,
            EVS_FUZZ_VOLUME_IDS: disks.join(','),
            EVS_FUZZ_HOOKS: path.join(HERE, 'fuzz_hooks.py'),
          },
          timeout: (FUZZ_SECONDS + 120) * 1000,
          maxBuffer: 64 * 1024 * 1024,
        }));
      } catch (err) {
        // Exit code 1 means failures were found: the report says which.
        const e = err as Error & { stdout?: string; stderr?: string; code?: number };
        if (e.code !== 1 || e.stdout === undefined) throw new Error(`schemathesis did not run: ${e.message}\n${e.stderr ?? ''}`, { cause: err });
        output = e.stdout;
      }
      fs.writeFileSync(path.join(runDir, 'output.txt'), output);

      const report = JSON.parse(fs.readFileSync(onlyFile(runDir, 'json-'), 'utf8')) as RunReport;
      const har = JSON.parse(fs.readFileSync(onlyFile(runDir, 'har-'), 'utf8')) as Har;
      const statuses: Record<string, number> = {};
      for (const { request, response } of har.log.entries) {
        const key = `${request.method} ${response.status}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
      const figures = {
        seed: FUZZ_SEED,
        seconds: FUZZ_SECONDS,
        testCases: report.test_cases.generated,
        requests: har.log.entries.length,
        failures: report.failures.map((f) => `${f.code} ${f.title}: ${f.operations.join(', ')}`),
        statuses,
        reports: runDir,
      };
      fs.writeFileSync(path.join(runDir, 'figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
      console.log(`schemathesis: ${JSON.stringify(figures)}`);

      expect(report.errors, failureSection(output)).toEqual([]);
      expect(report.failures, failureSection(output)).toEqual([]);
      expect(report.exit_code).toBe(0);
      expect(report.operations.tested).toBe(report.operations.selected);
      expect(Object.keys(statuses).filter((k) => / 5\d\d$/.test(k))).toEqual([]);
      // The run reached the transfer logic, not only validation: real creates
      // and deletes went through, and undeclared methods met 405.
      expect(statuses['POST 202'] ?? 0).toBeGreaterThan(0);
      expect(statuses['DELETE 202'] ?? 0).toBeGreaterThan(0);
      expect(Object.keys(statuses).some((k) => k.endsWith(' 405'))).toBe(true);
    },
    (FUZZ_SECONDS + 240) * 1000,
  );
});
