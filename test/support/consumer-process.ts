/**
 * A billing or audit process of a test's own, against the test stack's
 * Kafka: its own SQLite file, consumer group and port, so a test can kill
 * it, restart it on the same file and group, or rebuild from the beginning
 * of the topics, without touching the stack's own consumers.
 *
 *   const billing = await ConsumerProcess.start('billing', { dir, groupId: `it-${randomUUID()}` });
 *   await billing.kill();                 // kill -9
 *   const again = await billing.restart(); // same file, same group
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { isAlive, waitUntil } from './private-stack';
import { ROOT_DIR, testEnv } from './stack';
import { type IssuerConfig, issueToken } from './tenants';

export type ConsumerAppName = 'billing' | 'audit';

export interface ConsumerProcessSettings {
  /** Folder for the database file and the log. */
  dir: string;
  groupId: string;
  /** Default: the file named after the app in `dir`. */
  dbPath?: string;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * HTTP to a billing or audit process: the test stack's own
 * (testStack().billingUrl) or a ConsumerProcess. Their query routes take
 * an administrator's X-Auth-Token; `auth` names the issuer whose key the
 * process verifies with (default: the test stack's local issuer).
 */
export class ConsumerClient {
  constructor(
    readonly app: ConsumerAppName,
    readonly url: string,
    private readonly auth?: IssuerConfig,
  ) {}

  /** GET as an operator's administrator would; `token` sends another token instead, null none at all. */
  async get<T = any>(pathAndQuery: string, options: { token?: string | null } = {}): Promise<{ status: number; body: T }> {
    const token = options.token === undefined ? await this.adminToken() : options.token;
    const res = await fetch(`${this.url}${pathAndQuery}`, {
      // JSON: /metrics answers Prometheus's text format to anyone who does not ask for it.
      headers: { accept: 'application/json', ...(token === null ? {} : { 'x-auth-token': token }) },
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  /** A fresh one per call (signing is cheap), so no test outlives its token. */
  adminToken(): Promise<string> {
    return issueToken('evs-operators', `${this.app}-admin`, ['admin'], this.auth);
  }

  async metrics(): Promise<ConsumerMetricsView> {
    return (await this.get<ConsumerMetricsView>('/metrics')).body;
  }

  /** Waits until the group has committed everything on its topics (lag 0), as /healthz reports it. */
  async caughtUp(timeoutMs = 90_000): Promise<void> {
    await waitUntil(`${this.app} to catch up`, async () => (await this.get('/healthz')).body?.consumer?.lag === 0, timeoutMs, 200);
  }
}

export class ConsumerProcess extends ConsumerClient {
  private readonly exited: Promise<void>;

  private constructor(
    app: ConsumerAppName,
    readonly settings: Required<ConsumerProcessSettings>,
    url: string,
    private readonly child: ChildProcess,
  ) {
    super(app, url);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(app: ConsumerAppName, settings: ConsumerProcessSettings): Promise<ConsumerProcess> {
    const full = { dbPath: path.join(settings.dir, `${app}.sqlite`), ...settings };
    fs.mkdirSync(full.dir, { recursive: true });
    const port = await freePort();
    const prefix = app.toUpperCase();
    const log = fs.openSync(path.join(full.dir, `${app}.log`), 'a');
    const child = spawn('node', ['--enable-source-maps', `dist/apps/${app}/src/main.js`], {
      cwd: ROOT_DIR,
      env: testEnv({
        [`${prefix}_PORT`]: String(port),
        // Its own file even when the stack's stores are on PostgreSQL (DATABASE_URL).
        [`${prefix}_DATABASE_URL`]: `sqlite:${full.dbPath}`,
        [`${prefix}_CONSUMER_GROUP`]: full.groupId,
        LOG_LEVEL: 'warn',
      }),
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    const started = new ConsumerProcess(app, full, `http://127.0.0.1:${port}`, child);
    try {
      // Healthy means: database open and the consumer in its group.
      await waitUntil(`${app} on port ${port}`, async () => {
        if (!started.running) throw new Error(`${app} exited with ${child.exitCode ?? child.signalCode}`);
        return (await fetch(`${started.url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
      }, 60_000);
    } catch (error) {
      await started.stop();
      throw error;
    }
    return started;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The same file and group, in a new process. */
  restart(): Promise<ConsumerProcess> {
    return ConsumerProcess.start(this.app, this.settings);
  }

  /** kill -9: no chance to finish a batch, commit offsets or leave the group. */
  async kill(): Promise<void> {
    if (!this.running) return;
    const pid = this.pid;
    this.child.kill('SIGKILL');
    await this.exited;
    await waitUntil(`${this.app} (pid ${pid}) gone`, () => !isAlive(pid), 10_000, 20);
  }

  /** SIGTERM: the orderly stop (finish the batch, commit, leave the group). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }
}

export interface ConsumerMetricsView {
  since_start: { processed: number; applied: number; ignored: number; duplicates: number; skipped: { unknown: number; malformed: number; failed: number } };
  stored: { events: number; dead_letters: { unknown: number; malformed: number; failed: number } };
}

/** Every page of an audit query, followed through next_page_token. */
export async function allAuditEvents(client: ConsumerClient, query: string, limit = 1000): Promise<any[]> {
  const events: any[] = [];
  let token: string | null = null;
  do {
    const page: { status: number; body: any } = await client.get(`/v1/events?${query}&limit=${limit}${token ? `&page_token=${token}` : ''}`);
    if (page.status !== 200) throw new Error(`audit query ${query} answered ${page.status}: ${JSON.stringify(page.body)}`);
    events.push(...page.body.events);
    token = page.body.next_page_token;
  } while (token);
  return events;
}
