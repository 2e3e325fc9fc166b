import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

const JWKS = { JWT_JWKS_URL: 'https://idp.example.test/certs', JWT_JWKS_ISSUER: 'https://idp.example.test' };

describe('token settings', () => {
  it('trusts only the local issuer by default, with 30 s of skew and today’s claim names', () => {
    const { auth } = loadConfig({});
    expect(auth).toMatchObject({ jwtIssuer: 'evs-transfer-local', jwtAudience: 'evs', clockSkewSeconds: 30, jwks: null });
  });

  it('adds an OpenID Connect provider with its own issuer, the gateway’s audience and RS256/ES256 by default', () => {
    expect(loadConfig(JWKS).auth.jwks).toEqual({
      url: 'https://idp.example.test/certs',
      issuer: 'https://idp.example.test',
      audience: 'evs',
      algorithms: ['RS256', 'ES256'],
      projectClaim: 'project_id',
      rolesClaim: 'roles',
    });
    expect(
      loadConfig({
        ...JWKS,
        JWT_JWKS_AUDIENCE: 'account',
        JWT_JWKS_ALGORITHMS: 'PS256, EdDSA',
        JWT_JWKS_PROJECT_CLAIM: 'tenant',
        JWT_JWKS_ROLES_CLAIM: 'realm_access.roles',
      }).auth.jwks,
    ).toMatchObject({ audience: 'account', algorithms: ['PS256', 'EdDSA'], projectClaim: 'tenant', rolesClaim: 'realm_access.roles' });
  });

  it.each([
    ['a JWKS URL without the provider’s issuer', { JWT_JWKS_URL: 'https://idp.example.test/certs' }, /JWT_JWKS_ISSUER/],
    ['the provider’s issuer equal to the local one', { ...JWKS, JWT_JWKS_ISSUER: 'evs-transfer-local' }, /JWT_JWKS_ISSUER/],
    ['a JWKS URL that is not http(s)', { ...JWKS, JWT_JWKS_URL: 'file:///etc/keys.json' }, /JWT_JWKS_URL/],
    ['alg none', { ...JWKS, JWT_JWKS_ALGORITHMS: 'RS256,none' }, /JWT_JWKS_ALGORITHMS.*never none or HS/s],
    ['an HMAC algorithm', { ...JWKS, JWT_JWKS_ALGORITHMS: 'HS256' }, /JWT_JWKS_ALGORITHMS/],
    ['no algorithm at all', { ...JWKS, JWT_JWKS_ALGORITHMS: ' , ' }, /JWT_JWKS_ALGORITHMS/],
    ['a clock skew over five minutes', { JWT_CLOCK_SKEW_SECONDS: '301' }, /JWT_CLOCK_SKEW_SECONDS/],
    ['a negative clock skew', { JWT_CLOCK_SKEW_SECONDS: '-1' }, /JWT_CLOCK_SKEW_SECONDS/],
  ])('refuses %s', (_what, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('takes a clock skew from 0 up to 300 s', () => {
    expect(loadConfig({ JWT_CLOCK_SKEW_SECONDS: '0' }).auth.clockSkewSeconds).toBe(0);
    expect(loadConfig({ JWT_CLOCK_SKEW_SECONDS: '300' }).auth.clockSkewSeconds).toBe(300);
  });
});

describe('GATEWAY_TRUSTED_PROXIES', () => {
  it('trusts no proxy unless told', () => {
    expect(loadConfig({}).gateway.trustedProxies).toEqual([]);
  });

  it('reads addresses and CIDR blocks of both families', () => {
    expect(loadConfig({ GATEWAY_TRUSTED_PROXIES: ' 10.0.0.0/8,192.0.2.1 , fd00::/8,::1' }).gateway.trustedProxies).toEqual([
      { network: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { network: '192.0.2.1', prefix: 32, family: 'ipv4' },
      { network: 'fd00::', prefix: 8, family: 'ipv6' },
      { network: '::1', prefix: 128, family: 'ipv6' },
    ]);
  });

  it.each(['proxy.internal', '10.0.0.0/33', '10.0.0.0/8/1', '10.0.0.0/', '::1/129', '10.0.0.0/-1', '*'])(
    'refuses to start with %s rather than trust something unintended',
    (value) => {
      expect(() => loadConfig({ GATEWAY_TRUSTED_PROXIES: value })).toThrow(ConfigError);
      expect(() => loadConfig({ GATEWAY_TRUSTED_PROXIES: value })).toThrow('GATEWAY_TRUSTED_PROXIES');
    },
  );
});

describe('reconciler settings', () => {
  it('runs every five minutes by default and keeps its ledger in the data folder', () => {
    const { reconciler, databases } = loadConfig({ DATA_DIR: '/srv/evs' });
    expect(reconciler).toEqual({ intervalSeconds: 300 });
    expect(databases.reconciler).toEqual({ dialect: 'sqlite', file: '/srv/evs/reconciler.sqlite' });
  });

  it('takes whole seconds from 10 up, and refuses anything else naming the variable', () => {
    expect(loadConfig({ RECONCILER_INTERVAL_SECONDS: '10' }).reconciler.intervalSeconds).toBe(10);
    for (const bad of ['9', '0', '-5', '1.5', 'often']) {
      expect(() => loadConfig({ RECONCILER_INTERVAL_SECONDS: bad })).toThrow(/RECONCILER_INTERVAL_SECONDS/);
    }
  });
});

describe('consumer settings', () => {
  it('puts billing and audit on their own ports and files under DATA_DIR, each in a group of its own', () => {
    const config = loadConfig({ DATA_DIR: '/srv/evs' });
    expect(config.billing).toEqual({ host: '127.0.0.1', port: 8083, consumerGroup: 'evs-billing' });
    expect(config.audit).toEqual({ host: '127.0.0.1', port: 8084, consumerGroup: 'evs-audit' });
    expect(config.databases.billing).toEqual({ dialect: 'sqlite', file: '/srv/evs/billing.sqlite' });
    expect(config.databases.audit).toEqual({ dialect: 'sqlite', file: '/srv/evs/audit.sqlite' });
  });

  it('takes another file and group, e.g. to rebuild a consumer from the start of the topics', () => {
    const config = loadConfig({ BILLING_DB_PATH: '/tmp/b.sqlite', BILLING_CONSUMER_GROUP: 'evs-billing-rebuild', AUDIT_PORT: '9184' });
    expect(config.billing).toMatchObject({ consumerGroup: 'evs-billing-rebuild' });
    expect(config.databases.billing).toEqual({ dialect: 'sqlite', file: '/tmp/b.sqlite' });
    expect(config.audit.port).toBe(9184);
    expect(() => loadConfig({ BILLING_CONSUMER_GROUP: '' })).toThrow(/BILLING_CONSUMER_GROUP/);
  });
});

describe('worker cache', () => {
  it('keeps 250 workflows by default, so the worker’s memory does not grow with the pending transfers', () => {
    expect(loadConfig({}).worker.maxCachedWorkflows).toBe(250);
  });

  it('takes 0 (no cache) or more, and refuses anything else naming the variable', () => {
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '0' }).worker.maxCachedWorkflows).toBe(0);
    expect(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '-1' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS/);
    expect(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: 'lots' })).toThrow(ConfigError);
  });
});

describe('outbox relay linger', () => {
  it('waits 20 ms by default, takes 0 (send at once) up to a second, and refuses anything else naming the variable', () => {
    expect(loadConfig({}).outboxRelay.lingerMs).toBe(20);
    expect(loadConfig({ OUTBOX_RELAY_LINGER_MS: '0' }).outboxRelay.lingerMs).toBe(0);
    expect(loadConfig({ OUTBOX_RELAY_LINGER_MS: '50' }).outboxRelay.lingerMs).toBe(50);
    expect(() => loadConfig({ OUTBOX_RELAY_LINGER_MS: '1001' })).toThrow(/OUTBOX_RELAY_LINGER_MS/);
    expect(() => loadConfig({ OUTBOX_RELAY_LINGER_MS: '-1' })).toThrow(/OUTBOX_RELAY_LINGER_MS/);
  });
});

describe('workflow stack traces', () => {
  it('are off unless asked for', () => {
    expect(loadConfig({}).worker.workflowStackTraces).toBe(false);
    expect(loadConfig({ WORKER_WORKFLOW_STACK_TRACES: '1' }).worker.workflowStackTraces).toBe(true);
    expect(loadConfig({ WORKER_WORKFLOW_STACK_TRACES: 'false' }).worker.workflowStackTraces).toBe(false);
    expect(() => loadConfig({ WORKER_WORKFLOW_STACK_TRACES: 'yes' })).toThrow(/WORKER_WORKFLOW_STACK_TRACES/);
  });
});

describe('worker concurrency', () => {
  it('keeps the SDK’s bounds by default', () => {
    expect(loadConfig({}).worker.maxConcurrentWorkflowTasks).toBe(40);
    expect(loadConfig({}).worker.maxConcurrentActivities).toBe(100);
  });

  it('bounds the workflow tasks and the activities a worker runs at once', () => {
    const { worker } = loadConfig({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '8', WORKER_MAX_CONCURRENT_ACTIVITIES: '16' });
    expect(worker.maxConcurrentWorkflowTasks).toBe(8);
    expect(worker.maxConcurrentActivities).toBe(16);
  });

  it('refuses fewer than two workflow tasks (the SDK polls two queues) or no activities at all', () => {
    expect(() => loadConfig({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '1' })).toThrow(/WORKER_MAX_CONCURRENT_WORKFLOW_TASKS/);
    expect(() => loadConfig({ WORKER_MAX_CONCURRENT_ACTIVITIES: '0' })).toThrow(/WORKER_MAX_CONCURRENT_ACTIVITIES/);
  });
});

describe('access-key master keys', () => {
  it('keeps the current key in the data folder and the keyring beside it by default', () => {
    expect(loadConfig({ DATA_DIR: '/srv/evs' }).auth).toMatchObject({
      accessKeyMasterKeyFile: '/srv/evs/keys/access-key-master-key',
      accessKeyMasterKeyringDir: '/srv/evs/keys/access-key-master-key.keyring',
    });
  });

  it('puts the keyring beside a key file named by hand, unless it is named too', () => {
    expect(loadConfig({ ACCESS_KEY_MASTER_KEY_FILE: '/etc/evs/master' }).auth.accessKeyMasterKeyringDir).toBe('/etc/evs/master.keyring');
    expect(
      loadConfig({ ACCESS_KEY_MASTER_KEY_FILE: '/etc/evs/master', ACCESS_KEY_MASTER_KEYRING_DIR: '/etc/evs/old-keys' }).auth.accessKeyMasterKeyringDir,
    ).toBe('/etc/evs/old-keys');
  });
});
