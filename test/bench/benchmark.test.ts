/**
 * The benchmark itself, run briefly against the test stack as `npm run
 * bench` runs it against its own: it must drive real transfers to the end
 * (events on Kafka), run both baselines on the same Temporal server, and
 * write the table and JSON it documents. No figure is judged here; this
 * only keeps the tool that produces them working.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT_DIR, testEnv } from '../support/stack';

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT_DIR, 'dist/infra/bench/run-bench.js'), ...args], {
      cwd: ROOT_DIR,
      env: testEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench', () => {
  it('completes transfers under load, runs both baselines, and writes the table and the JSON', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'evs-bench-')), 'bench.json');
    const { code, stdout, stderr } = await runBench(['--clients', '2', '--duration', '3', '--warmup', '1', '--rounds', '2', '--out', out]);
    expect(code, stderr).toBe(0);

    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(report.kind).toBe('load');
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.runs.map((r: { clients: number; round: number }) => [r.clients, r.round])).toEqual([
      [2, 1],
      [2, 2],
    ]);
    const [run, second] = report.runs;
    expect(run.clients).toBe(2);
    expect(run.ours.errors).toEqual({});
    expect(run.ours.eventsMissing).toBe(0);
    expect(run.ours.completeTransfers).toBeGreaterThan(0);
    for (const operation of ['create', 'show', 'list', 'accept']) {
      expect(run.ours.latencyMs[operation].count, operation).toBeGreaterThan(0);
    }
    // The baseline runs as many ordinary activities as the transfer took steps, read from a real transfer's history.
    const steps = run.transferShape.activities + run.transferShape.localActivities;
    expect(steps).toBeGreaterThan(0);
    expect(run.baselines.regular.load.shape).toEqual({ activities: steps, localActivities: 0 });
    expect(run.baselines.sameShape.load.shape).toEqual({
      activities: run.transferShape.activities,
      localActivities: run.transferShape.localActivities,
    });
    expect(run.baselines.regular.load.completeWorkflows).toBeGreaterThan(0);
    expect(run.baselines.regular.ratio).toBeGreaterThan(0);
    expect(run.memory.worker.peakRssMiB).toBeGreaterThan(0);

    // Two rounds: each measured in full, and their ratios summarised.
    expect(second.ours.completeTransfers).toBeGreaterThan(0);
    expect(report.rounds).toHaveLength(1);
    expect(report.rounds[0].baselines.regular.ratios).toEqual([run.baselines.regular.ratio, second.baselines.regular.ratio]);
    expect(stdout).toMatch(/2 clients #1\s+2 clients #2/);
    expect(stdout).toMatch(/baseline: ours \/ baseline, median \(range\)\s+\d+(\.\d)? % \(/);

    expect(stdout).toMatch(/complete transfers\/s\s+\d/);
    expect(stdout).toContain(`JSON: ${out}`);
  });

  it('refuses options it cannot mean, with its usage', async () => {
    const { code, stderr } = await runBench(['--clients', 'many']);
    expect(code).toBe(2);
    expect(stderr).toContain('--clients must be a positive whole number');
    expect(stderr).toContain('usage: npm run bench');
  });

  it('refuses to restart a stack it was not given the means to restart', async () => {
    const { code, stderr } = await runBench(['--open-loop', '--fresh-stacks', '--no-baseline']);
    expect(code).toBe(2);
    expect(stderr).toContain('--fresh-stacks restarts the one-replica stack infra/bench.sh starts itself');
  });
});
