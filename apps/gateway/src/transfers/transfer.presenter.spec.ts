import { describe, expect, it } from 'vitest';
import { createdView, detailView, requestBaseUrl, summaryView, transferLinks } from './transfer.presenter';

const base = { baseUrl: 'https://evs.example.com', version: 'v3' as const, projectId: 'p1' };
const facts = { id: 'a0', name: null, volumeId: 'v0', projectId: 'p1', createdAtMs: Date.UTC(2026, 10, 28, 9, 29, 46, 743) };
const V3_0 = { major: 3, minor: 0 };
const V2 = { major: 2, minor: 0 };

describe('links', () => {
  it('self carries the request version, bookmark none', () => {
    expect(transferLinks(base, 'a0')).toEqual([
      { href: 'https://evs.example.com/v3/p1/os-volume-transfer/a0', rel: 'self' },
      { href: 'https://evs.example.com/p1/os-volume-transfer/a0', rel: 'bookmark' },
    ]);
  });
});

describe('views', () => {
  it('have exactly the fields of the contract', () => {
    expect(Object.keys(summaryView(base, facts))).toEqual(['id', 'name', 'volume_id', 'links']);
    for (const version of [V2, V3_0, { major: 3, minor: 54 }]) {
      expect(Object.keys(detailView(base, facts, version))).toEqual(['id', 'name', 'volume_id', 'created_at', 'links']);
      expect(Object.keys(createdView(base, facts, 'k', version))).toEqual(['id', 'name', 'volume_id', 'auth_key', 'created_at', 'links']);
    }
    expect(detailView(base, facts, V3_0).created_at).toBe('2026-11-28T09:29:46.743000');
  });

  it('add no_snapshots from 3.55, and the history fields from 3.57, to create and detail views only', () => {
    const at = (minor: number) => ({ major: 3, minor });
    expect(detailView(base, facts, at(55))).toMatchObject({ no_snapshots: true });
    expect(detailView(base, facts, at(56))).not.toHaveProperty('accepted');
    const history = { no_snapshots: true, source_project_id: 'p1', destination_project_id: null, accepted: false };
    expect(detailView(base, facts, at(57))).toMatchObject(history);
    expect(createdView(base, facts, 'k', at(59))).toMatchObject(history);
    expect(Object.keys(summaryView(base, facts))).toEqual(['id', 'name', 'volume_id', 'links']);
  });
});

describe('requestBaseUrl', () => {
  const request = { protocol: 'http', host: 'gw.local:8080', localAddress: '10.0.0.5', localPort: 8080 };

  it('prefers the configured public base URL', () => {
    expect(requestBaseUrl('https://evs.example.com', request)).toBe('https://evs.example.com');
  });

  it('otherwise uses the request scheme and Host', () => {
    expect(requestBaseUrl('', request)).toBe('http://gw.local:8080');
    expect(requestBaseUrl('', { ...request, protocol: 'https', host: '[::1]:8443' })).toBe('https://[::1]:8443');
  });

  it('does not echo a Host that is not host[:port]; uses the address the request reached', () => {
    for (const host of ['evil.com/path', 'a b', 'x"><script>', undefined]) {
      expect(requestBaseUrl('', { ...request, host })).toBe('http://10.0.0.5:8080');
    }
    expect(requestBaseUrl('', { ...request, host: undefined, localAddress: '::ffff:127.0.0.1' })).toBe('http://127.0.0.1:8080');
    expect(requestBaseUrl('', { ...request, host: undefined, localAddress: '::1' })).toBe('http://[::1]:8080');
  });
});
