/**
 * Cinder's v3 volume views (cinder/api/v3/views/volumes.py), field for field,
 * built from the inventory's volumes. Strict client schemas (tempest's
 * volumes schema has additionalProperties: false) reject unknown keys, so
 * each view lists exactly Cinder's fields for the caller and the version:
 *   - administrators also see the owner and host attributes
 *     (os-vol-tenant-attr:tenant_id, os-vol-host-attr:host, the migration
 *     fields), as Cinder shows them only to admins;
 *   - 3.13 adds group_id; 3.48 adds service_uuid and shared_targets.
 * What the inventory does not keep (description, metadata, the creating
 * user, image and replication facts) is given Cinder's empty value; the
 * inventory's own EVS fields (billing, frozen, storage kind, backup policy)
 * stay on its API.
 */
import type { VolumeAttachmentView, VolumeView } from '../../../../libs/inventory-client/src/inventory.wire';
import { type Microversion, supports } from '../versions/microversion';
import type { ApiVersion } from '../transfers/transfer.presenter';

/** The availability zone every EVS disk of this deployment is in. */
export const AVAILABILITY_ZONE = 'nova';

export interface VolumeLink {
  href: string;
  rel: 'self' | 'bookmark' | 'next';
}

export interface VolumeSummary {
  id: string;
  name: string | null;
  links: VolumeLink[];
}

export interface CinderAttachment {
  server_id: string;
  attachment_id: string;
  attached_at: string | null;
  host_name: string | null;
  volume_id: string;
  device: string | null;
  id: string;
}

export interface CinderVolume {
  id: string;
  name: string | null;
  description: string | null;
  status: string;
  size: number;
  availability_zone: string;
  created_at: string;
  updated_at: string | null;
  attachments: CinderAttachment[];
  volume_type: string | null;
  snapshot_id: string | null;
  source_volid: string | null;
  metadata: Record<string, string>;
  links: VolumeLink[];
  /** The creating user; the inventory does not keep it, so empty. */
  user_id: string;
  bootable: 'true' | 'false';
  encrypted: boolean;
  replication_status: string | null;
  consistencygroup_id: string | null;
  multiattach: boolean;
  'os-vol-tenant-attr:tenant_id'?: string;
  'os-vol-host-attr:host'?: string | null;
  'os-vol-mig-status-attr:migstat'?: string | null;
  'os-vol-mig-status-attr:name_id'?: string | null;
  migration_status?: string | null;
  group_id?: string | null;
  service_uuid?: string | null;
  shared_targets?: boolean;
}

export interface VolumeViewContext {
  baseUrl: string;
  version: ApiVersion;
  microversion: Microversion;
  /** The path's project (the caller's). */
  projectId: string;
  admin: boolean;
}

export function volumeLinks(ctx: Pick<VolumeViewContext, 'baseUrl' | 'version' | 'projectId'>, id: string): VolumeLink[] {
  return [
    { href: `${ctx.baseUrl}/${ctx.version}/${ctx.projectId}/volumes/${id}`, rel: 'self' },
    { href: `${ctx.baseUrl}/${ctx.projectId}/volumes/${id}`, rel: 'bookmark' },
  ];
}

function attachment(a: VolumeAttachmentView): CinderAttachment {
  return { server_id: a.server_id, attachment_id: a.id, attached_at: null, host_name: null, volume_id: a.volume_id, device: null, id: a.volume_id };
}

export function volumeSummary(ctx: VolumeViewContext, v: Pick<VolumeView, 'id' | 'name'>): VolumeSummary {
  return { id: v.id, name: v.name, links: volumeLinks(ctx, v.id) };
}

export function volumeDetail(ctx: VolumeViewContext, v: VolumeView): CinderVolume {
  const view: CinderVolume = {
    id: v.id,
    name: v.name,
    description: null,
    status: v.status,
    size: v.size,
    availability_zone: AVAILABILITY_ZONE,
    created_at: v.created_at,
    updated_at: v.updated_at,
    attachments: v.attachments.map(attachment),
    volume_type: v.volume_type,
    snapshot_id: null,
    source_volid: null,
    metadata: {},
    links: volumeLinks(ctx, v.id),
    user_id: '',
    bootable: v.bootable,
    encrypted: v.encrypted,
    replication_status: null,
    consistencygroup_id: null,
    multiattach: false,
  };
  if (ctx.admin) {
    view['os-vol-tenant-attr:tenant_id'] = v['os-vol-tenant-attr:tenant_id'];
    view['os-vol-host-attr:host'] = null;
    view['os-vol-mig-status-attr:migstat'] = null;
    view['os-vol-mig-status-attr:name_id'] = null;
    view.migration_status = null;
  }
  if (supports(ctx.microversion, 'volumeGroupId')) view.group_id = null;
  if (supports(ctx.microversion, 'volumeSharedTargets')) {
    view.service_uuid = null;
    view.shared_targets = false;
  }
  return view;
}
