import { describe, expect, it } from 'vitest';
import { versionsDocument } from './versions.presenter';

const BASE = 'https://evs.example.com';

// Cinder's documents (cinder/api/versions.py and its view builder) with the
// v3 microversion range the gateway implements: 3.0 to 3.59.
const V2 = {
  id: 'v2.0',
  status: 'DEPRECATED',
  version: '',
  min_version: '',
  updated: '2017-02-25T12:00:00Z',
  links: [
    { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
    { rel: 'self', href: 'https://evs.example.com/v2/' },
  ],
  'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=2' }],
};
const V3 = {
  id: 'v3.0',
  status: 'CURRENT',
  version: '3.59',
  min_version: '3.0',
  updated: '2016-02-08T12:20:21Z',
  links: [
    { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
    { rel: 'self', href: 'https://evs.example.com/v3/' },
  ],
  'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
};

describe('version discovery documents', () => {
  it('lists every version in Cinder’s order, whatever order it is given', () => {
    expect(versionsDocument(BASE, ['v3', 'v2'])).toEqual({ versions: [V2, V3] });
  });

  it('describes one version alone, keys in Cinder’s order', () => {
    const doc = versionsDocument(BASE, ['v3']);
    expect(doc).toEqual({ versions: [V3] });
    expect(Object.keys(doc.versions[0])).toEqual(['id', 'status', 'version', 'min_version', 'updated', 'links', 'media-types']);
    expect(versionsDocument(BASE, ['v2'])).toEqual({ versions: [V2] });
  });

  it('advertises 3.0 to 3.59, the range implemented, below 3.70 (encrypted transfers, which EVS forbids)', () => {
    const [v3] = versionsDocument(BASE, ['v3']).versions;
    expect([v3?.min_version, v3?.version]).toEqual(['3.0', '3.59']);
  });

  it('returns fresh objects each time', () => {
    const a = versionsDocument(BASE, ['v3']);
    a.versions[0].links.push({ rel: 'self', href: 'x' });
    a.versions[0]['media-types'][0].type = 'changed';
    expect(versionsDocument(BASE, ['v3'])).toEqual({ versions: [V3] });
  });
});
