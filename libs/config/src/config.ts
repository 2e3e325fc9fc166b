/**
 * The only reader of process.env. Every setting is validated once at boot
 * into a typed object; a bad value stops the process with a message naming
 * the variable, rather than failing later somewhere far away.
 */
import * as path from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_CLOCK_SKEW_SECONDS,
  MAX_CLOCK_SKEW_SECONDS,
  PROJECT_CLAIM,
  PUBLIC_KEY_ALGORITHMS,
  type PublicKeyAlgorithm,
  ROLES_CLAIM,
} from '../../auth/src/token-rules';

const port = z.coerce.number().int().min(1).max(65535);
const positiveSeconds = z.coerce.number().positive();

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
  JWT_ISSUER: z.string().min(1).default('evs-transfer-local'),
  JWT_AUDIENCE: z.string().min(1).default('evs'),
  /** Clock skew allowed on exp and nbf, for every token. Capped: a large skew makes expiry meaningless. */
  JWT_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(MAX_CLOCK_SKEW_SECONDS).default(DEFAULT_CLOCK_SKEW_SECONDS),
  /** An OpenID Connect provider's JWKS; empty: only the local key verifies tokens. */
  JWT_JWKS_URL: z
    .string()
    .default('')
    .refine((v) => v === '' || /^https?:$/.test(URL.parse(v)?.protocol ?? ''), 'must be an http(s) URL'),
  /** The provider's issuer (its `iss`); required with JWT_JWKS_URL. */
  JWT_JWKS_ISSUER: z.string().default(''),
  /** The audience the provider's tokens must carry; empty: JWT_AUDIENCE. */
  JWT_JWKS_AUDIENCE: z.string().default(''),
  JWT_JWKS_ALGORITHMS: z
    .string()
    .default('RS256,ES256')
    .transform((v) => v.split(',').map((a) => a.trim()).filter(Boolean))
    .pipe(
      z
        .array(
          z.enum(PUBLIC_KEY_ALGORITHMS, {
            error: `may only name public-key algorithms (${PUBLIC_KEY_ALGORITHMS.join(', ')}): never none or HS*`,
          }),
        )
        .min(1, 'must name at least one algorithm'),
    ),
  /** Where the provider's tokens name the caller's project and roles; a dotted name reaches into nested claims. */
  JWT_JWKS_PROJECT_CLAIM: z.string().min(1).default(PROJECT_CLAIM),
  JWT_JWKS_ROLES_CLAIM: z.string().min(1).default(ROLES_CLAIM),
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
    clockSkewSeconds: number;
    /** An external OpenID Connect provider, when JWT_JWKS_URL is set. */
    jwks: {
      url: string;
      issuer: string;
      audience: string;
      algorithms: PublicKeyAlgorithm[];
      projectClaim: string;
      rolesClaim: string;
    } | null;
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
  if (c.JWT_JWKS_URL !== '' && c.JWT_JWKS_ISSUER === '') {
    throw new ConfigError('Invalid configuration:\n  JWT_JWKS_ISSUER: required when JWT_JWKS_URL is set');
  }
  if (c.JWT_JWKS_URL !== '' && c.JWT_JWKS_ISSUER === c.JWT_ISSUER) {
    // The issuer picks which keys verify a token, so the two must differ.
    throw new ConfigError('Invalid configuration:\n  JWT_JWKS_ISSUER: must differ from JWT_ISSUER (the local issuer)');
  }
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
      clockSkewSeconds: c.JWT_CLOCK_SKEW_SECONDS,
      jwks:
        c.JWT_JWKS_URL === ''
          ? null
          : {
              url: c.JWT_JWKS_URL,
              issuer: c.JWT_JWKS_ISSUER,
              audience: c.JWT_JWKS_AUDIENCE || c.JWT_AUDIENCE,
              algorithms: c.JWT_JWKS_ALGORITHMS,
              projectClaim: c.JWT_JWKS_PROJECT_CLAIM,
              rolesClaim: c.JWT_JWKS_ROLES_CLAIM,
            },
      authKeySecretFile: c.AUTH_KEY_SECRET_FILE || inData('keys/auth-key-secret'),
    },
  };
}
