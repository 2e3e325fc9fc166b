/**
 * What a new operator meets on a Temporal server with nothing provisioned
 * (a bare dev server, as a self-hosted cluster or Temporal Cloud starts): the
 * worker and the gateway refuse to start with one line naming what is
 * missing and the command that creates it; that command creates it;
 * TEMPORAL_PROVISION=1 makes the worker create it itself.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../libs/temporal/src/transfer.definitions';
import { freePort } from '../support/consumer-process';
import { waitUntil } from '../support/private-stack';
import { ROOT_DIR } from '../support/stack';

const run = promisify(execFile);
const TEMPORAL_CLI = process.env.TEMPORAL_CLI || path.join(ROOT_DIR, '.tools/temporal-venv/bin/temporal');
const WANTED = Object.values(SEARCH_ATTRIBUTES).map((key) => key.name);

describe('a Temporal server with nothing provisioned', () => {
  let server: ChildProcess;
  let address = '';
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evs-provisioning-'));

  beforeAll(async () => {
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    // No --namespace and no --search-attribute: what a fresh server offers.
    server = spawn(TEMPORAL_CLI, ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error'], {
      stdio: 'ignore',
    });
    await waitUntil('bare Temporal server', async () => {
      const { stdout } = await run(TEMPORAL_CLI, ['operator', 'cluster', 'health', '--address', address]).catch(() => ({ stdout: '' }));
      return stdout.includes('SERVING');
    }, 60_000);
  });

  afterAll(async () => {
    server?.kill('SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Starts a built app against the bare server, its output captured. */
  function startApp(app: 'worker' | 'gateway', env: Record<string, string>) {
    const child = spawn('node', [`dist/apps/${app}/src/main.js`], {
      cwd: ROOT_DIR,
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, TEMPORAL_ADDRESS: address, KAFKA_BROKERS: '127.0.0.1:1', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const captured = { output: '' };
    child.stdout?.on('data', (c: Buffer) => (captured.output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (captured.output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    /** Its exit code, after a SIGKILL if it is still running a minute on. */
    const exitCode = async () => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    };
    return { child, captured, exitCode };
  }

  /** Runs the built worker until it exits or `untilHealthy` sees its /healthz, then stops it. */
  async function worker(env: Record<string, string>, untilHealthy = false): Promise<{ code: number | null; output: string; healthy: boolean }> {
    const healthPort = await freePort();
    const { child, captured, exitCode } = startApp('worker', { WORKER_HEALTH_PORT: String(healthPort), ...env });
    let healthy = false;
    if (untilHealthy) {
      await waitUntil('worker healthy', async () => {
        healthy = await fetch(`http://127.0.0.1:${healthPort}/healthz`).then((r) => r.ok, () => false);
        return healthy || child.exitCode !== null;
      }, 60_000);
      child.kill('SIGTERM');
    }
    const code = await exitCode();
    return { code, output: captured.output, healthy };
  }

  async function registered(namespace: string): Promise<string[]> {
    const connection = await Connection.connect({ address });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      return Object.keys(customAttributes ?? {});
    } finally {
      await connection.close();
    }
  }

  it('the worker refuses to start with one line naming what is missing and the command that creates it', async () => {
    const { code, output } = await worker({ TEMPORAL_NAMESPACE: 'evs-new' });
    expect(code).toBe(1);
    const line = output.split('\n').find((l) => l.includes('not provisioned'));
    expect(line).toContain('namespace evs-new does not exist');
    for (const name of WANTED) expect(line).toContain(name);
    expect(line).toContain('npm run provision:temporal');
    expect(output).not.toMatch(/^\s+at /m);
  });

  it('the gateway refuses to start with the same line, before it takes a request', async () => {
    const port = await freePort();
    const { captured, exitCode } = startApp('gateway', { TEMPORAL_NAMESPACE: 'evs-new', GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: String(port) });
    const code = await exitCode();
    const { output } = captured;
    expect(code).toBe(1);
    const lines = output.split('\n').filter((l) => l.includes('not provisioned'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('cannot start: Temporal at');
    expect(lines[0]).toContain('namespace evs-new does not exist');
    expect(lines[0]).toContain('npm run provision:temporal');
    expect(output).not.toContain('listening on');
    expect(output).not.toMatch(/^\s+at /m);
  });

  it('npm run provision:temporal creates the namespace and the search attributes, and a second run finds nothing to do', async () => {
    const env = { ...process.env, DATA_DIR: dataDir, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'evs-provisioned' };
    const first = JSON.parse((await run('bash', ['infra/run-script.sh', 'provision-temporal'], { cwd: ROOT_DIR, env })).stdout);
    expect(first).toMatchObject({ created_namespace: true, provisioned: true });
    expect(first.created_search_attributes.sort()).toEqual([...WANTED].sort());
    expect((await registered('evs-provisioned')).sort()).toEqual(expect.arrayContaining(WANTED));
    const second = JSON.parse((await run('bash', ['infra/run-script.sh', 'provision-temporal'], { cwd: ROOT_DIR, env })).stdout);
    expect(second).toMatchObject({ created_namespace: false, created_search_attributes: [], provisioned: true });
  });

  it('with TEMPORAL_PROVISION=1 the worker creates what is missing and starts', async () => {
    const { healthy, output } = await worker({ TEMPORAL_NAMESPACE: 'evs-self', TEMPORAL_PROVISION: '1' }, true);
    expect(healthy, output).toBe(true);
    expect(await registered('evs-self')).toEqual(expect.arrayContaining(WANTED));
  });
});
