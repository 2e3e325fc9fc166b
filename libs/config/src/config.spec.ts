import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

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
