/**
 * The only reader of process.env. Every setting is validated once at boot
 * into a typed object; a bad value stops the process with a message naming
 * the variable, rather than failing later somewhere far away.
 */
import { isIP } from 'node:net';
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
import { type DatabaseTarget, DatabaseUrlError, resolveStoreTarget } from '../../database/src/database-url';
import { STORE_NAMES, STORES, type StoreName } from '../../database/src/stores';

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

/** One optional URL per store (READ_MODEL_DATABASE_URL, ...): see libs/database/src/database-url.ts. */
const storeUrls = Object.fromEntries(STORE_NAMES.map((store) => [STORES[store].env, z.string().default('')])) as Record<
  (typeof STORES)[StoreName]['env'],
  z.ZodDefault<z.ZodString>
>;

const schema = z.object({
  DATA_DIR: z.string().default('.data/dev'),
  /**
   * The database of every store: `postgres://user@host:port/db` puts each in
   * its own schema there (what replicas on several hosts need); empty,
   * `sqlite:` or `file:` keeps each in its own SQLite file in DATA_DIR.
   */
  DATABASE_URL: z.string().default(''),
  ...storeUrls,
  /** PostgreSQL connections one process may hold per store it opens. */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(5),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_UI_URL: z.string().default('http://127.0.0.1:8233'),
  /**
   * TLS to Temporal: on when any of these is set, or with TEMPORAL_TLS=1 (the
   * system's CAs). A client certificate and key for mTLS (a self-hosted
   * cluster, Temporal Cloud's mTLS namespaces); a CA for a private one.
   */
  TEMPORAL_TLS: z.enum(['0', '1', 'true', 'false', '']).default(''),
  TEMPORAL_TLS_CA_FILE: z.string().default(''),
  TEMPORAL_TLS_CERT_FILE: z.string().default(''),
  TEMPORAL_TLS_KEY_FILE: z.string().default(''),
  /** The name the server's certificate must carry, when it is not the address's host. */
  TEMPORAL_TLS_SERVER_NAME: z.string().default(''),
  /** 1: the worker creates our namespace and search attributes at start if they are missing (libs/temporal/src/provisioning.ts). */
  TEMPORAL_PROVISION: z.enum(['0', '1', 'true', 'false']).default('0'),
  /** Retention of closed transfers' histories in a namespace we create. */
  TEMPORAL_NAMESPACE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** File holding a Temporal Cloud API key (sent as a bearer token, over TLS). */
  TEMPORAL_API_KEY_FILE: z.string().default(''),

  KAFKA_BROKERS: z.string().default('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: z.string().default('evs-transfer'),
  /** Copies of each topic's partitions that create-topics asks for: 1 on a single broker, 3 on a cluster. */
  KAFKA_TOPIC_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(7).default(1),
  /**
   * How long the outbox relays (the worker's transfer events, the gateway's audit records) wait
   * after a record is stored before they send, so one Kafka request carries what arrives meanwhile
   * (0: at once). Only delays the records: each is durable in its outbox from the start.
   */
  OUTBOX_RELAY_LINGER_MS: z.coerce.number().int().min(0).max(1000).default(20),

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

  WORKER_HEALTH_HOST: z.string().default('127.0.0.1'),
  WORKER_HEALTH_PORT: port.default(8082),
  /**
   * Where the Temporal SDK serves its own worker and client metrics for
   * Prometheus (temporal_* names, as the public Temporal SDK dashboards
   * query them), on WORKER_HEALTH_HOST. 0: not served.
   */
  WORKER_SDK_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /**
   * Transfer workflows a worker keeps in memory between their tasks (0: none). A cached one costs
   * about 0.45 MiB; one not cached is replayed from its history on its next task (an accept of one
   * took about 50 ms in all). The SDK's own default follows the heap limit (2310 on a 4 GiB heap), which
   * held a worker at 1.3 GiB with 10,000 transfers pending (docs/performance.md).
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(250),
  /**
   * Workflow tasks one worker runs at once (the SDK's default, 40). A task holds its slot while
   * its local activities (the inventory call, the database writes) run, so a lower bound caps
   * the worker's throughput when those slow down; bounding it at 8 or 10 on the overloaded
   * cluster bought nothing steady (docs/performance.md). At least 2: the SDK polls two queues.
   */
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).default(40),
  /** Activities and local activities (each counted apart) one worker runs at once (the SDK's default is 100 each). */
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).default(100),
  /**
   * 1: the worker's workflows record a stack per promise, for Temporal's stack-trace query (the Web
   * UI's "Stack Trace" tab). Off by default: it cost the worker about 23 ms of CPU per
   * transfer, a fifth of its share (libs/temporal/src/workflow-stack-traces.ts).
   */
  WORKER_WORKFLOW_STACK_TRACES: z.enum(['0', '1', 'true', 'false']).default('0'),

  INVENTORY_HOST: z.string().default('127.0.0.1'),
  INVENTORY_PORT: port.default(8081),
  INVENTORY_URL: z.string().default(''),
  INVENTORY_DB_PATH: z.string().default(''),
  INVENTORY_DEFAULT_QUOTA_VOLUMES: z.coerce.number().int().min(0).default(100),
  INVENTORY_DEFAULT_QUOTA_GIGABYTES: z.coerce.number().int().min(0).default(10240),
  /** File of the secret that signs calls to the inventory's internal API; generated by whichever of inventory and worker starts first. */
  INVENTORY_SERVICE_SECRET_FILE: z.string().default(''),

  READ_MODEL_DB_PATH: z.string().default(''),

  /** How often the Schedule evs-reconciler runs the reconciler; the worker creates or updates it at start. */
  RECONCILER_INTERVAL_SECONDS: z.coerce.number().int().min(10).default(300),
  /** Which reconciler findings were already published (so a persisting one is announced once). */
  RECONCILER_DB_PATH: z.string().default(''),
  /** The billing consumer: ownership ledger over the lifecycle topic. */
  BILLING_HOST: z.string().default('127.0.0.1'),
  BILLING_PORT: port.default(8083),
  BILLING_DB_PATH: z.string().default(''),
  /** Its Kafka consumer group; a new group reads the topic from the beginning. */
  BILLING_CONSUMER_GROUP: z.string().min(1).default('evs-billing'),
  /** The audit consumer: append-only log of every event on the three topics. */
  AUDIT_HOST: z.string().default('127.0.0.1'),
  AUDIT_PORT: port.default(8084),
  AUDIT_DB_PATH: z.string().default(''),
  AUDIT_CONSUMER_GROUP: z.string().min(1).default('evs-audit'),

  TRANSFER_TTL_SECONDS: positiveSeconds.default(72 * 3600),
  /** How long create's validation may wait for the inventory before answering 503; keep it below the update timeout. */
  TRANSFER_VALIDATION_TIMEOUT_SECONDS: positiveSeconds.default(20),
  ACCEPT_MAX_FAILED_ATTEMPTS: z.coerce.number().int().min(1).default(5),
  ACCEPT_LOCKOUT_SECONDS: positiveSeconds.default(300),
  ACCEPT_LOCKOUT_MAX_SECONDS: positiveSeconds.default(24 * 3600),
  /** Failed accepts one project may make, over all transfers, within the window below, before its accepts get 429. */
  ACCEPT_CALLER_MAX_FAILURES: z.coerce.number().int().min(1).default(20),
  ACCEPT_CALLER_WINDOW_SECONDS: positiveSeconds.default(600),

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
  /** SQLite file of the access keys (AK/SK) that sign requests; secrets in it are encrypted. */
  ACCESS_KEY_DB_PATH: z.string().default(''),
  /** File holding the key that encrypts the stored secret keys; generated on first use. */
  ACCESS_KEY_MASTER_KEY_FILE: z.string().default(''),
  /**
   * Folder of further master keys that only decrypt: retired ones, and the
   * next one before it is made current (rotation, docs/deployment.md).
   * Default: beside the key file, its name + `.keyring`.
   */
  ACCESS_KEY_MASTER_KEYRING_DIR: z.string().default(''),
  /** How far X-Sdk-Date of a signed request may be from the gateway's clock, either way. */
  ACCESS_KEY_SIGNATURE_WINDOW_SECONDS: positiveSeconds.max(3600).default(300),
});

export type RawConfig = z.infer<typeof schema>;

export interface AppConfig {
  dataDir: string;
  /** Where each store lives; a process opens only the stores it uses. */
  databases: Record<StoreName, DatabaseTarget> & { poolMax: number };
  logLevel: RawConfig['LOG_LEVEL'];
  temporal: {
    address: string;
    namespace: string;
    uiUrl: string;
    /** Null: plaintext, as to the dev server. */
    tls: { caFile: string; certFile: string; keyFile: string; serverName: string } | null;
    apiKeyFile: string;
    provision: boolean;
    namespaceRetentionDays: number;
  };
  kafka: { brokers: string[]; clientId: string; topicReplicationFactor: number };
  outboxRelay: { lingerMs: number };
  gateway: {
    host: string;
    port: number;
    publicBaseUrl: string;
    updateTimeoutMs: number;
    validationTimeoutMs: number;
    /** Per calling project, over all transfers: failed accepts allowed within the window. */
    acceptCallerLimit: { maxFailures: number; windowMs: number };
    trustedProxies: AddressBlock[];
  };
  worker: {
    healthHost: string;
    healthPort: number;
    sdkMetricsPort: number;
    maxCachedWorkflows: number;
    maxConcurrentWorkflowTasks: number;
    maxConcurrentActivities: number;
    workflowStackTraces: boolean;
  };
  inventory: {
    host: string;
    port: number;
    url: string;
    defaultQuota: { volumes: number; gigabytes: number };
    serviceSecretFile: string;
  };
  reconciler: { intervalSeconds: number };
  /** An event consumer's HTTP listener and Kafka group (its store: databases.billing / databases.audit). */
  billing: ConsumerSettings;
  audit: ConsumerSettings;
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
    accessKeyMasterKeyFile: string;
    accessKeyMasterKeyringDir: string;
    signatureWindowMs: number;
  };
}

export interface ConsumerSettings {
  host: string;
  port: number;
  consumerGroup: string;
}

export class ConfigError extends Error {}

/** The world is not as the process needs it at start (a server not provisioned, say): one line, no stack. */
export class StartupError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  if ((c.TEMPORAL_TLS_CERT_FILE === '') !== (c.TEMPORAL_TLS_KEY_FILE === '')) {
    throw new ConfigError('Invalid configuration:\n  TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE: set both (mTLS) or neither');
  }
  if (['0', 'false'].includes(c.TEMPORAL_TLS) && c.TEMPORAL_API_KEY_FILE !== '') {
    throw new ConfigError('Invalid configuration:\n  TEMPORAL_API_KEY_FILE: an API key is only sent over TLS (TEMPORAL_TLS is off)');
  }
  if (c.JWT_JWKS_URL !== '' && c.JWT_JWKS_ISSUER === '') {
    throw new ConfigError('Invalid configuration:\n  JWT_JWKS_ISSUER: required when JWT_JWKS_URL is set');
  }
  if (c.JWT_JWKS_URL !== '' && c.JWT_JWKS_ISSUER === c.JWT_ISSUER) {
    // The issuer picks which keys verify a token, so the two must differ.
    throw new ConfigError('Invalid configuration:\n  JWT_JWKS_ISSUER: must differ from JWT_ISSUER (the local issuer)');
  }
  const dataDir = path.resolve(c.DATA_DIR);
  const inData = (file: string) => path.join(dataDir, file);
  const accessKeyMasterKeyFile = c.ACCESS_KEY_MASTER_KEY_FILE || inData('keys/access-key-master-key');
  // The *_DB_PATH settings of the SQLite-only releases still name each store's file.
  const legacyFiles: Partial<Record<StoreName, string>> = {
    readModel: c.READ_MODEL_DB_PATH,
    gatewayOutbox: c.GATEWAY_OUTBOX_DB_PATH,
    accessKeys: c.ACCESS_KEY_DB_PATH,
    inventory: c.INVENTORY_DB_PATH,
    reconciler: c.RECONCILER_DB_PATH,
    billing: c.BILLING_DB_PATH,
    audit: c.AUDIT_DB_PATH,
  };
  const databases = {} as Record<StoreName, DatabaseTarget>;
  for (const store of STORE_NAMES) {
    try {
      databases[store] = resolveStoreTarget(store, {
        own: c[STORES[store].env],
        shared: c.DATABASE_URL,
        legacyFile: legacyFiles[store] ? path.resolve(legacyFiles[store]) : '',
        dataDir,
      });
    } catch (err) {
      if (err instanceof DatabaseUrlError) throw new ConfigError(`Invalid configuration:\n  ${err.message}`);
      throw err;
    }
  }
  return {
    dataDir,
    databases: { ...databases, poolMax: c.DATABASE_POOL_MAX },
    logLevel: c.LOG_LEVEL,
    temporal: {
      address: c.TEMPORAL_ADDRESS,
      namespace: c.TEMPORAL_NAMESPACE,
      uiUrl: c.TEMPORAL_UI_URL,
      tls:
        ['1', 'true'].includes(c.TEMPORAL_TLS) ||
        (c.TEMPORAL_TLS === '' &&
          [c.TEMPORAL_TLS_CA_FILE, c.TEMPORAL_TLS_CERT_FILE, c.TEMPORAL_TLS_KEY_FILE, c.TEMPORAL_TLS_SERVER_NAME, c.TEMPORAL_API_KEY_FILE].some(Boolean))
          ? {
              caFile: c.TEMPORAL_TLS_CA_FILE,
              certFile: c.TEMPORAL_TLS_CERT_FILE,
              keyFile: c.TEMPORAL_TLS_KEY_FILE,
              serverName: c.TEMPORAL_TLS_SERVER_NAME,
            }
          : null,
      apiKeyFile: c.TEMPORAL_API_KEY_FILE,
      provision: ['1', 'true'].includes(c.TEMPORAL_PROVISION),
      namespaceRetentionDays: c.TEMPORAL_NAMESPACE_RETENTION_DAYS,
    },
    kafka: {
      brokers: c.KAFKA_BROKERS.split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      clientId: c.KAFKA_CLIENT_ID,
      topicReplicationFactor: c.KAFKA_TOPIC_REPLICATION_FACTOR,
    },
    outboxRelay: { lingerMs: c.OUTBOX_RELAY_LINGER_MS },
    gateway: {
      host: c.GATEWAY_HOST,
      port: c.GATEWAY_PORT,
      publicBaseUrl: c.PUBLIC_BASE_URL.replace(/\/+$/, ''),
      updateTimeoutMs: c.GATEWAY_UPDATE_TIMEOUT_SECONDS * 1000,
      validationTimeoutMs: c.TRANSFER_VALIDATION_TIMEOUT_SECONDS * 1000,
      acceptCallerLimit: { maxFailures: c.ACCEPT_CALLER_MAX_FAILURES, windowMs: c.ACCEPT_CALLER_WINDOW_SECONDS * 1000 },
      trustedProxies: c.GATEWAY_TRUSTED_PROXIES,
    },
    worker: {
      healthHost: c.WORKER_HEALTH_HOST,
      healthPort: c.WORKER_HEALTH_PORT,
      sdkMetricsPort: c.WORKER_SDK_METRICS_PORT,
      maxCachedWorkflows: c.WORKER_MAX_CACHED_WORKFLOWS,
      maxConcurrentWorkflowTasks: c.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxConcurrentActivities: c.WORKER_MAX_CONCURRENT_ACTIVITIES,
      workflowStackTraces: ['1', 'true'].includes(c.WORKER_WORKFLOW_STACK_TRACES),
    },
    inventory: {
      host: c.INVENTORY_HOST,
      port: c.INVENTORY_PORT,
      url: (c.INVENTORY_URL || `http://${c.INVENTORY_HOST}:${c.INVENTORY_PORT}`).replace(/\/+$/, ''),
      defaultQuota: { volumes: c.INVENTORY_DEFAULT_QUOTA_VOLUMES, gigabytes: c.INVENTORY_DEFAULT_QUOTA_GIGABYTES },
      serviceSecretFile: c.INVENTORY_SERVICE_SECRET_FILE || inData('keys/inventory-service-secret'),
    },
    reconciler: {
      intervalSeconds: c.RECONCILER_INTERVAL_SECONDS,
    },
    billing: {
      host: c.BILLING_HOST,
      port: c.BILLING_PORT,
      consumerGroup: c.BILLING_CONSUMER_GROUP,
    },
    audit: {
      host: c.AUDIT_HOST,
      port: c.AUDIT_PORT,
      consumerGroup: c.AUDIT_CONSUMER_GROUP,
    },
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
      accessKeyMasterKeyFile,
      accessKeyMasterKeyringDir: c.ACCESS_KEY_MASTER_KEYRING_DIR || `${accessKeyMasterKeyFile}.keyring`,
      signatureWindowMs: c.ACCESS_KEY_SIGNATURE_WINDOW_SECONDS * 1000,
    },
  };
}
