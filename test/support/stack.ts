/**
 * The test stack's settings, resolved the way infra/up.sh resolves them:
 * infra/env/test.env supplies defaults, non-empty variables already in the
 * environment win, and the Temporal/Kafka addresses are derived from the
 * ports unless set. Then libs/config's loadConfig reads the result, so the
 * paths and URLs here are the ones the apps use.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../libs/config/src/config';

export const ROOT_DIR = path.resolve(__dirname, '../..');
const ENV_NAME = 'test';

export interface TestStack {
  rootDir: string;
  gatewayUrl: string;
  inventoryUrl: string;
  workerHealthUrl: string;
  /** The billing consumer (ownership ledger). */
  billingUrl: string;
  /** The audit consumer (audit log). */
  auditUrl: string;
  temporalAddress: string;
  namespace: string;
  temporalUiUrl: string;
  kafkaBrokers: string[];
  /** Absolute. */
  dataDir: string;
  logsDir: string;
  runDir: string;
}

/** Parses KEY=VALUE lines like infra/lib.sh: no shell evaluation, optional matching quotes. */
export function readEnvFile(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const raw of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || !line.includes('=')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    const quoted = /^"(.*)"$/.exec(value) ?? /^'(.*)'$/.exec(value);
    if (quoted) value = quoted[1] ?? '';
    values[key] = value;
  }
  return values;
}

/**
 * Resolves `base` the way infra/lib.sh does for EVS_ENV=test: test.env
 * defaults under the non-empty variables of `base`, then the derived
 * addresses. test/support/private-stack.ts resolves its own stack with it.
 */
export function resolveTestEnv(base: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined) env[key] = value;
  }
  const given = (key: string) => (env[key] ?? '') !== '';
  const temporalExternal = env.EVS_TEMPORAL_EXTERNAL ?? (given('TEMPORAL_ADDRESS') ? '1' : '0');
  const kafkaExternal = env.EVS_KAFKA_EXTERNAL ?? (given('KAFKA_BROKERS') ? '1' : '0');

  for (const [key, value] of Object.entries(readEnvFile(path.join(ROOT_DIR, 'infra/env', `${ENV_NAME}.env`)))) {
    if (!given(key)) env[key] = value;
  }
  const setDefault = (key: string, value: string) => {
    if (!given(key)) env[key] = value;
  };
  setDefault('DATA_DIR', `.data/${ENV_NAME}`);
  env.DATA_DIR = path.resolve(ROOT_DIR, env.DATA_DIR ?? '');
  setDefault('TEMPORAL_PORT', '7233');
  setDefault('TEMPORAL_UI_PORT', '8233');
  setDefault('KAFKA_PORT', '9092');
  setDefault('TEMPORAL_ADDRESS', `127.0.0.1:${env.TEMPORAL_PORT}`);
  setDefault('TEMPORAL_NAMESPACE', 'default');
  if (temporalExternal !== '1') setDefault('TEMPORAL_UI_URL', `http://127.0.0.1:${env.TEMPORAL_UI_PORT}`);
  setDefault('KAFKA_BROKERS', `127.0.0.1:${env.KAFKA_PORT}`);
  env.EVS_ENV = ENV_NAME;
  env.EVS_TEMPORAL_EXTERNAL = temporalExternal;
  env.EVS_KAFKA_EXTERNAL = kafkaExternal;
  return env;
}

/**
 * The complete environment for spawning another app process against the
 * test stack, e.g. a second gateway:
 *   spawn('node', ['dist/apps/gateway/src/main.js'],
 *         { cwd: ROOT_DIR, env: testEnv({ GATEWAY_PORT: '18090', TRANSFER_TTL_SECONDS: '5' }) })
 */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return { ...resolveTestEnv(process.env), ...overrides };
}

export function testStack(): TestStack {
  const env = testEnv();
  const config = loadConfig(env);
  const local = (port: number) => `http://127.0.0.1:${port}`;
  return {
    rootDir: ROOT_DIR,
    gatewayUrl: local(config.gateway.port),
    inventoryUrl: config.inventory.url,
    workerHealthUrl: local(config.worker.healthPort),
    billingUrl: local(config.billing.port),
    auditUrl: local(config.audit.port),
    temporalAddress: config.temporal.address,
    namespace: config.temporal.namespace,
    temporalUiUrl: config.temporal.uiUrl,
    kafkaBrokers: config.kafka.brokers,
    dataDir: config.dataDir,
    logsDir: path.join(config.dataDir, 'logs'),
    runDir: path.join(config.dataDir, 'run'),
  };
}
