/**
 * The response bodies of transfer-api.md, field for field. Strict client
 * schemas reject extra keys, so each view lists exactly its fields.
 */
import { toCinderTimestamp } from '../../../../libs/domain/src/ids';
import { type Microversion, supports } from '../versions/microversion';

export type ApiVersion = 'v2' | 'v3';
export const API_VERSIONS: readonly ApiVersion[] = ['v2', 'v3'];

export interface Link {
  href: string;
  rel: 'self' | 'bookmark';
}

export interface TransferSummaryView {
  id: string;
  name: string | null;
  volume_id: string;
  links: Link[];
}

/**
 * What microversions add to create, show and list-detail views (not to the
 * summary list, nor to accept's answer), on both routes as in Cinder.
 */
export interface VersionedTransferFields {
  /** 3.55. Always true: EVS never moves snapshots (a disk that has any is refused). */
  no_snapshots?: boolean;
  /** 3.57: the owner; the recipient and `accepted` are known only once accepted, and only pending transfers are visible. */
  source_project_id?: string;
  destination_project_id?: string | null;
  accepted?: boolean;
}

export interface TransferDetailView extends TransferSummaryView, VersionedTransferFields {
  created_at: string;
}

export interface CreatedTransferView extends VersionedTransferFields {
  id: string;
  name: string | null;
  volume_id: string;
  auth_key: string;
  created_at: string;
  links: Link[];
}

export interface TransferFacts {
  id: string;
  name: string | null;
  volumeId: string;
  /** The owning (source) project. */
  projectId: string;
  createdAtMs: number;
}

/** Where the links point: the request's API version and project, under the public base URL. */
export interface LinkBase {
  baseUrl: string;
  version: ApiVersion;
  projectId: string;
}

const COLLECTION = 'os-volume-transfer';

/** self: <base>/<v>/<project>/os-volume-transfer/<id>; bookmark: the same without the version. */
export function transferLinks(base: LinkBase, transferId: string): Link[] {
  return [
    { href: `${base.baseUrl}/${base.version}/${base.projectId}/${COLLECTION}/${transferId}`, rel: 'self' },
    { href: `${base.baseUrl}/${base.projectId}/${COLLECTION}/${transferId}`, rel: 'bookmark' },
  ];
}

export function summaryView(base: LinkBase, t: Pick<TransferFacts, 'id' | 'name' | 'volumeId'>): TransferSummaryView {
  return { id: t.id, name: t.name, volume_id: t.volumeId, links: transferLinks(base, t.id) };
}

/** The fields `version` adds; a pending transfer is not accepted and has no recipient yet. */
export function versionedFields(t: Pick<TransferFacts, 'projectId'>, version: Microversion): VersionedTransferFields {
  return {
    ...(supports(version, 'transferNoSnapshots') ? { no_snapshots: true } : {}),
    ...(supports(version, 'transferHistory') ? { source_project_id: t.projectId, destination_project_id: null, accepted: false } : {}),
  };
}

export function detailView(base: LinkBase, t: TransferFacts, version: Microversion): TransferDetailView {
  return {
    id: t.id,
    name: t.name,
    volume_id: t.volumeId,
    created_at: toCinderTimestamp(t.createdAtMs),
    links: transferLinks(base, t.id),
    ...versionedFields(t, version),
  };
}

export function createdView(base: LinkBase, t: TransferFacts, authKey: string, version: Microversion): CreatedTransferView {
  return {
    id: t.id,
    name: t.name,
    volume_id: t.volumeId,
    auth_key: authKey,
    created_at: toCinderTimestamp(t.createdAtMs),
    links: transferLinks(base, t.id),
    ...versionedFields(t, version),
  };
}

const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * The base URL links use: the configured public base URL, else the request's
 * scheme and Host. A Host that is not a plain host[:port] is not echoed into
 * links; the address the request reached is used instead.
 */
export function requestBaseUrl(
  configured: string,
  request: { protocol: string; host: string | undefined; localAddress: string | undefined; localPort: number | undefined },
): string {
  if (configured !== '') return configured;
  const scheme = request.protocol === 'https' ? 'https' : 'http';
  if (request.host !== undefined && HOST.test(request.host)) return `${scheme}://${request.host}`;
  const address = request.localAddress ?? '127.0.0.1';
  const host = address.includes(':') && !address.startsWith('::ffff:') ? `[${address}]` : address.replace(/^::ffff:/, '');
  return `${scheme}://${host}${request.localPort ? `:${request.localPort}` : ''}`;
}
