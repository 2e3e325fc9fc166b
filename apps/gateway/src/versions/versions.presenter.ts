/**
 * Cinder's version discovery documents, field for field, for the versions
 * the gateway serves. keystoneauth (and so openstacksdk, and the cinder CLI)
 * reads them, unauthenticated, before its first API call; without one,
 * openstacksdk refuses to build a block-storage proxy at all.
 *
 * v3 is advertised with the microversion range the gateway implements
 * (versions/microversion.ts), never Cinder's own maximum: a client that
 * negotiates (openstacksdk) must not be sent to a version it cannot have.
 * `updated` is the date Cinder's own documents gave for these versions.
 */
import type { ApiVersion } from '../transfers/transfer.presenter';
import { formatMicroversion, MAX_MICROVERSION, MIN_MICROVERSION } from './microversion';

export interface VersionLink {
  rel: 'describedby' | 'self';
  href: string;
  type?: 'text/html';
}

export interface VersionView {
  id: 'v2.0' | 'v3.0';
  status: 'DEPRECATED' | 'CURRENT';
  /** Highest microversion ('' for v2, which has none). */
  version: string;
  /** Lowest microversion ('' for v2). */
  min_version: string;
  updated: string;
  links: VersionLink[];
  'media-types': { base: 'application/json'; type: string }[];
}

export interface VersionsDocument {
  versions: VersionView[];
}


const DESCRIBED_BY: VersionLink = { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' };

const VERSIONS: Record<ApiVersion, Omit<VersionView, 'links'>> = {
  v2: {
    id: 'v2.0',
    status: 'DEPRECATED',
    version: '',
    min_version: '',
    updated: '2017-02-25T12:00:00Z',
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=2' }],
  },
  v3: {
    id: 'v3.0',
    status: 'CURRENT',
    version: formatMicroversion(MAX_MICROVERSION),
    min_version: formatMicroversion(MIN_MICROVERSION),
    updated: '2016-02-08T12:20:21Z',
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  },
};

/** One version's entry; its self link is `<base>/<v>/` (with the trailing slash, as Cinder writes it). */
export function versionView(baseUrl: string, version: ApiVersion): VersionView {
  const { id, status, version: max, min_version, updated, 'media-types': mediaTypes } = VERSIONS[version];
  return {
    id,
    status,
    version: max,
    min_version,
    updated,
    links: [{ ...DESCRIBED_BY }, { rel: 'self', href: `${baseUrl}/${version}/` }],
    'media-types': mediaTypes.map((m) => ({ ...m })),
  };
}

/** `{"versions": [...]}` for the given versions, in Cinder's order (by id). */
export function versionsDocument(baseUrl: string, versions: readonly ApiVersion[]): VersionsDocument {
  return { versions: [...versions].sort().map((v) => versionView(baseUrl, v)) };
}
