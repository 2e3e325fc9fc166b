/**
 * The cluster topology the cluster tests run against (infra/cluster.sh with
 * EVS_ENV=cluster, in a data folder of its own): where its balancer, its two
 * gateways and its other hosts listen, the settings its processes get, and
 * a way to kill and restart one host, as an operator's fault would.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { type AppConfig, loadConfig } from '../../libs/config/src/config';
import { readEnvFile, ROOT_DIR } from './stack';

const run = promisify(execFile);

/**
 * Not .data/cluster: the tests wipe it, and an operator's own cluster must
 * survive them. EVS_CLUSTER_DATA_DIR points the tests at another (with
 * EVS_TEST_STACK=external, at a cluster already running there).
 */
export const CLUSTER_TEST_DATA_DIR = path.resolve(ROOT_DIR, process.env.EVS_CLUSTER_DATA_DIR || '.data/cluster-test');

export type ClusterHost =
  | 'inventory-1'
  | 'worker-1'
  | 'worker-2'
  | 'gateway-1'
  | 'gateway-2'
  | 'billing-1'
  | 'billing-2'
  | 'audit-1'
  | 'audit-2'
  | TemporalHost;

/** The Temporal server's own hosts (infra/cluster/temporal-cluster.sh). */
export type TemporalHost =
  | 'temporal-frontend-1'
  | 'temporal-frontend-2'
  | 'temporal-history-1'
  | 'temporal-history-2'
  | 'temporal-matching-1'
  | 'temporal-matching-2'
  | 'temporal-worker-1';

/** cluster.env under the variables the test run sets, with the test's data folder. */
export function clusterEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(readEnvFile(path.join(ROOT_DIR, 'infra/env/cluster.env')))) env[key] = value;
  for (const [key, value] of Object.entries(process.env)) {
    // The test stack's own settings (DATABASE_URL of a PostgreSQL pass, ports) are not the cluster's.
    if (value !== undefined && !(key in env) && key !== 'DATA_DIR') env[key] = value;
  }
  return { ...env, EVS_ENV: 'cluster', DATA_DIR: CLUSTER_TEST_DATA_DIR, ...overrides };
}

export interface ClusterTopology {
  /** HAProxy in front of the gateways: what clients use. */
  apiUrl: string;
  gatewayUrls: [string, string];
  inventoryUrl: string;
  billingUrls: [string, string];
  auditUrls: [string, string];
  temporalAddress: string;
  kafkaBrokers: string[];
  databaseUrl: string;
  /** The local issuer's key files, provisioned once for every host. */
  auth: AppConfig['auth'];
}

export function clusterTopology(): ClusterTopology {
  const env = clusterEnv();
  const config = loadConfig(env);
  const at = (address: string, port: number | string) => `http://${address}:${port}`;
  return {
    apiUrl: at(env.CLUSTER_API_ADDR ?? '127.0.0.1', env.CLUSTER_API_PORT ?? ''),
    gatewayUrls: [at('127.0.0.41', config.gateway.port), at('127.0.0.42', config.gateway.port)],
    inventoryUrl: at('127.0.0.30', config.inventory.port),
    billingUrls: [at('127.0.0.61', config.billing.port), at('127.0.0.62', config.billing.port)],
    auditUrls: [at('127.0.0.71', config.audit.port), at('127.0.0.72', config.audit.port)],
    temporalAddress: `${env.TEMPORAL_LISTEN_IP}:${env.TEMPORAL_PORT}`,
    kafkaBrokers: config.kafka.brokers,
    databaseUrl: env.DATABASE_URL ?? '',
    auth: config.auth,
  };
}

/** Runs infra/cluster.sh with the test's settings (start, stop, kill HOST, restart HOST, ...). */
export async function clusterScript(args: string[], timeoutMs = 300_000): Promise<string> {
  const { stdout, stderr } = await run('bash', ['infra/cluster.sh', ...args], {
    cwd: ROOT_DIR,
    env: clusterEnv({ SKIP_BUILD: '1', EVS_PG_FAST: '1' }),
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return `${stdout}${stderr}`;
}

export const killHost = (host: ClusterHost) => clusterScript(['kill', host]);
export const restartHost = (host: ClusterHost) => clusterScript(['restart', host]);
export const killBroker = (node: 1 | 2 | 3) => clusterScript(['kill-broker', String(node)]);
export const restartBroker = (node: 1 | 2 | 3) => clusterScript(['restart-broker', String(node)]);
export const stopPostgres = () => clusterScript(['stop-postgres']);
export const startPostgres = () => clusterScript(['start-postgres']);
