/**
 * The only reader of process.env. Every setting is validated once at boot
 * into a typed object; a bad value stops the process with a message naming
 * the variable, rather than failing later somewhere far away.
 */
import { isIP } from 'node:net';
import * as path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);
const positiveSeconds = z.coerce.number().positive();

/** An IP address, or a network in CIDR notation (`10.0.0.0/8`, `fd00::/8`). */
export interface AddressBlock {
  network: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Comma-separated addresses and CIDR blocks; a bad entry fails the boot rather than trusting something unintended. */
const addressBlocks = z
  .string()
  .default('')
  .transform((value, ctx): AddressBlock[] => {
    const blocks: AddressBlock[] = [];
    for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
      const [network = '', prefixText, ...rest] = entry.split('/');
      const version = isIP(network);
      const bits = version === 6 ? 128 : 32;
      const prefix = prefixText === undefined ? bits : /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      if (version === 0 || rest.length > 0 || !(prefix >= 0 && prefix <= bits)) {
        ctx.addIssue({ code: 'custom', message: `"${entry}" is not an IP address or CIDR block` });
        return z.NEVER;
      }
      blocks.push({ network, prefix, family: version === 6 ? 'ipv6' : 'ipv4' });
    }
    return blocks;
  });

const schema = z.object({
  DATA_DIR: z.string().default('.data/dev'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_UI_URL: z.string().default('http://127.0.0.1:8233'),

  KAFKA_BROKERS: z.string().default('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: z.string().default('evs-transfer'),

  GATEWAY_HOST: z.string().default('127.0.0.1'),
  GATEWAY_PORT: port.default(8080),
  /** Externally visible base URL for links; empty means the request's scheme and host. */
  PUBLIC_BASE_URL: z.string().default(''),
  /** How long the gateway waits for a workflow outcome before answering 503. */
  GATEWAY_UPDATE_TIMEOUT_SECONDS: positiveSeconds.default(30),
  /** The gateway's outbox of API audit records not yet on Kafka. */
  GATEWAY_OUTBOX_DB_PATH: z.string().default(''),
  /**
   * Reverse proxies whose X-Forwarded-For names the client (for the audit
   * record's source IP). Empty: none, the TCP peer is the client.
   */
  GATEWAY_TRUSTED_PROXIES: addressBlocks,

  WORKER_HEALTH_PORT: port.default(8082),

  INVENTORY_HOST: z.string().default('127.0.0.1'),
  INVENTORY_PORT: port.default(8081),
  INVENTORY_URL: z.string().default(''),
  INVENTORY_DB_PATH: z.string().default(''),
  INVENTORY_DEFAULT_QUOTA_VOLUMES: z.coerce.number().int().min(0).default(100),
  INVENTORY_DEFAULT_QUOTA_GIGABYTES: z.coerce.number().int().min(0).default(10240),

  READ_MODEL_DB_PATH: z.string().default(''),

  TRANSFER_TTL_SECONDS: positiveSeconds.default(72 * 3600),
  /** How long create's validation may wait for the inventory before answering 503; keep it below the update timeout. */
  TRANSFER_VALIDATION_TIMEOUT_SECONDS: positiveSeconds.default(20),
  ACCEPT_MAX_FAILED_ATTEMPTS: z.coerce.number().int().min(1).default(5),
  ACCEPT_LOCKOUT_SECONDS: positiveSeconds.default(300),
  ACCEPT_LOCKOUT_MAX_SECONDS: positiveSeconds.default(24 * 3600),

  /** PEM file of the public key that verifies X-Auth-Token; default: the local issuer's. */
  JWT_PUBLIC_KEY_FILE: z.string().default(''),
  JWT_ISSUER: z.string().default('evs-transfer-local'),
  JWT_AUDIENCE: z.string().default('evs'),
  /** File holding the server-side secret that keys the auth-key hashes; generated on first start. */
  AUTH_KEY_SECRET_FILE: z.string().default(''),
});

export type RawConfig = z.infer<typeof schema>;

export interface AppConfig {
  dataDir: string;
  logLevel: RawConfig['LOG_LEVEL'];
  temporal: { address: string; namespace: string; uiUrl: string };
  kafka: { brokers: string[]; clientId: string };
  gateway: {
    host: string;
    port: number;
    publicBaseUrl: string;
    updateTimeoutMs: number;
    validationTimeoutMs: number;
    outboxDbPath: string;
    trustedProxies: AddressBlock[];
  };
  worker: { healthPort: number };
  inventory: {
    host: string;
    port: number;
    url: string;
    dbPath: string;
    defaultQuota: { volumes: number; gigabytes: number };
  };
  readModel: { dbPath: string };
  transferPolicy: { timeToLiveMs: number; maxFailedAccepts: number; lockoutBaseMs: number; lockoutMaxMs: number };
  auth: {
    jwtPublicKeyFile: string;
    jwtPrivateKeyFile: string;
    jwtIssuer: string;
    jwtAudience: string;
    authKeySecretFile: string;
  };
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  const dataDir = path.resolve(c.DATA_DIR);
  const inData = (file: string) => path.join(dataDir, file);
  return {
    dataDir,
    logLevel: c.LOG_LEVEL,
    temporal: { address: c.TEMPORAL_ADDRESS, namespace: c.TEMPORAL_NAMESPACE, uiUrl: c.TEMPORAL_UI_URL },
    kafka: {
      brokers: c.KAFKA_BROKERS.split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      clientId: c.KAFKA_CLIENT_ID,
    },
    gateway: {
      host: c.GATEWAY_HOST,
      port: c.GATEWAY_PORT,
      publicBaseUrl: c.PUBLIC_BASE_URL.replace(/\/+$/, ''),
      updateTimeoutMs: c.GATEWAY_UPDATE_TIMEOUT_SECONDS * 1000,
      validationTimeoutMs: c.TRANSFER_VALIDATION_TIMEOUT_SECONDS * 1000,
      outboxDbPath: c.GATEWAY_OUTBOX_DB_PATH || inData('gateway-outbox.sqlite'),
      trustedProxies: c.GATEWAY_TRUSTED_PROXIES,
    },
    worker: { healthPort: c.WORKER_HEALTH_PORT },
    inventory: {
      host: c.INVENTORY_HOST,
      port: c.INVENTORY_PORT,
      url: (c.INVENTORY_URL || `http://${c.INVENTORY_HOST}:${c.INVENTORY_PORT}`).replace(/\/+$/, ''),
      dbPath: c.INVENTORY_DB_PATH || inData('inventory.sqlite'),
      defaultQuota: { volumes: c.INVENTORY_DEFAULT_QUOTA_VOLUMES, gigabytes: c.INVENTORY_DEFAULT_QUOTA_GIGABYTES },
    },
    readModel: { dbPath: c.READ_MODEL_DB_PATH || inData('transfers.sqlite') },
    transferPolicy: {
      timeToLiveMs: c.TRANSFER_TTL_SECONDS * 1000,
      maxFailedAccepts: c.ACCEPT_MAX_FAILED_ATTEMPTS,
      lockoutBaseMs: c.ACCEPT_LOCKOUT_SECONDS * 1000,
      lockoutMaxMs: c.ACCEPT_LOCKOUT_MAX_SECONDS * 1000,
    },
    auth: {
      jwtPublicKeyFile: c.JWT_PUBLIC_KEY_FILE || inData('keys/jwt-public.pem'),
      jwtPrivateKeyFile: inData('keys/jwt-private.pem'),
      jwtIssuer: c.JWT_ISSUER,
      jwtAudience: c.JWT_AUDIENCE,
      authKeySecretFile: c.AUTH_KEY_SECRET_FILE || inData('keys/auth-key-secret'),
    },
  };
}
