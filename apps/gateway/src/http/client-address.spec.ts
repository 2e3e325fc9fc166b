import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../libs/config/src/config';
import { ClientAddressResolver } from './client-address';

const resolverFor = (proxies: string) => new ClientAddressResolver(loadConfig({ GATEWAY_TRUSTED_PROXIES: proxies }).gateway.trustedProxies);
const xff = (value: string | string[]) => ({ 'x-forwarded-for': value });

describe('ClientAddressResolver', () => {
  it('by default believes no X-Forwarded-For: the TCP peer is the client', () => {
    const resolver = resolverFor('');
    expect(resolver.resolve('127.0.0.1', xff('203.0.113.9'))).toBe('127.0.0.1');
    expect(resolver.resolve('::ffff:10.0.0.5', xff('203.0.113.9'))).toBe('10.0.0.5');
    expect(resolver.resolve(null, xff('203.0.113.9'))).toBeNull();
  });

  it('ignores the header from a peer that is not a trusted proxy', () => {
    expect(resolverFor('10.0.0.0/8').resolve('192.0.2.7', xff('203.0.113.9'))).toBe('192.0.2.7');
  });

  it('takes, from a trusted proxy, the rightmost address that is not a trusted proxy', () => {
    const resolver = resolverFor('10.0.0.0/8, 192.0.2.1');
    // The client spoofed 198.51.100.1 in front; the proxies appended the real one.
    expect(resolver.resolve('10.0.0.2', xff('198.51.100.1, 203.0.113.9, 192.0.2.1'))).toBe('203.0.113.9');
    expect(resolver.resolve('::ffff:10.1.1.1', xff(['198.51.100.1', '203.0.113.9']))).toBe('203.0.113.9');
    expect(resolver.resolve('10.0.0.2', xff('10.9.9.9'))).toBe('10.9.9.9');
  });

  it('stops at a malformed entry and keeps the last address it could believe', () => {
    const resolver = resolverFor('10.0.0.0/8');
    expect(resolver.resolve('10.0.0.2', xff('203.0.113.9, 10.0.0.3, not-an-ip'))).toBe('10.0.0.2');
    expect(resolver.resolve('10.0.0.2', xff('203.0.113.9, evil\r\nX: 1, 10.0.0.3'))).toBe('10.0.0.3');
    expect(resolver.resolve('10.0.0.2', xff(''))).toBe('10.0.0.2');
    expect(resolver.resolve('10.0.0.2', xff(Array.from({ length: 100 }, () => '203.0.113.9').join(',')))).toBe('10.0.0.2');
  });

  it('handles IPv6 proxies and clients', () => {
    const resolver = resolverFor('fd00::/8, ::1');
    expect(resolver.resolve('::1', xff('2001:db8::7, fd00::1'))).toBe('2001:db8::7');
    expect(resolver.isTrustedProxy('fd12::3')).toBe(true);
    expect(resolver.isTrustedProxy('2001:db8::7')).toBe(false);
  });
});
