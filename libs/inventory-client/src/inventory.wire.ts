/**
 * The inventory's wire format, shared by the server (apps/inventory) and its
 * client so the two cannot drift. Types only, plus the one name the internal
 * API uses outside the error catalogue. docs/inventory-api.md shows each shape.
 */
import type { BillingMode, DiskFacts, DiskStatus, StorageKind } from '../../domain/src/disk';
import type { ErrorName } from '../../domain/src/errors';

/**
 * Internal API only: a release or reassign named a transfer that does not
 * hold the disk. Not in the public catalogue on purpose: the worker maps it
 * (it means the workflow and the inventory disagree about who holds the lock).
 */
export const TRANSFER_NOT_HOLDING_DISK = 'TransferNotHoldingDisk';
export type InventoryErrorName = ErrorName | typeof TRANSFER_NOT_HOLDING_DISK;

export interface InventoryErrorBody {
  error: { name: InventoryErrorName; code: string; message: string };
}

// ---- internal API: the transfer steps ------------------------------------

export interface DiskResponse {
  disk: DiskFacts;
}

export interface TransferLockBody {
  project_id: string;
  transfer_id: string;
}

export interface TransferLockReleaseBody {
  transfer_id: string;
}

export interface TransferLockReleaseResponse {
  released: boolean;
  disk: DiskFacts | null;
}

export interface ReassignBody {
  transfer_id: string;
  to_project_id: string;
}

/**
 * `GET /internal/v1/transfer-locks?limit=&marker=`: the disks awaiting
 * transfer, each naming the transfer that holds it, in disk id order.
 * `next_marker` is the marker of the next page, null after the last.
 */
export interface TransferLocksResponse {
  disks: DiskFacts[];
  next_marker: string | null;
}

/**
 * `GET /internal/v1/projects/{project_id}/volumes?limit=&offset=`: one
 * project's volumes (detailed views), oldest first, for the gateway's
 * read-only volume API.
 */
export interface ProjectVolumesResponse {
  volumes: VolumeView[];
}

// ---- tenant API (Cinder-style) -------------------------------------------

/** Statuses a tenant (or a test) may create a volume in. */
export const CREATABLE_STATUSES = ['available', 'creating', 'error'] as const;
export type CreatableStatus = (typeof CREATABLE_STATUSES)[number];

/** The body of `POST /v3/{project_id}/volumes`, inside `{"volume": ...}`. */
export interface CreateVolumeAttrs {
  size: number;
  id?: string;
  name?: string | null;
  /** Default "SSD". */
  volume_type?: string;
  bootable?: boolean;
  encrypted?: boolean;
  billing_mode?: BillingMode;
  frozen?: boolean;
  storage_kind?: StorageKind;
  backup_policy_id?: string | null;
  replication_pair_id?: string | null;
  /** Default "available"; the others exist so tests can build refused disks. */
  status?: CreatableStatus;
}

export interface VolumeAttachmentView {
  /** Cinder repeats the volume id here. */
  id: string;
  volume_id: string;
  server_id: string;
}

export interface VolumeView {
  id: string;
  name: string | null;
  status: DiskStatus;
  size: number;
  volume_type: string;
  /** A string, as Cinder sends it. */
  bootable: 'true' | 'false';
  encrypted: boolean;
  /** Cinder's admin field for the owner project; shown so a tenant sees ownership. */
  'os-vol-tenant-attr:tenant_id': string;
  project_id: string;
  billing_mode: BillingMode;
  frozen: boolean;
  storage_kind: StorageKind;
  backup_policy_id: string | null;
  replication_pair_id: string | null;
  attachments: VolumeAttachmentView[];
  snapshot_count: number;
  backup_count: number;
  /** Cinder timestamps: UTC, microseconds, no zone suffix. */
  created_at: string;
  updated_at: string;
}

export interface VolumeSummaryView {
  id: string;
  name: string | null;
}

/** `POST /v3/{project_id}/volumes/{id}/action`: exactly one key. */
export type VolumeAction =
  | { 'os-attach': { instance_uuid: string; mountpoint?: string; mode?: 'rw' | 'ro' } }
  | { 'os-detach': { attachment_id?: string } }
  | { 'os-extend': { new_size: number } }
  | { 'os-set-backup-policy': { policy_id: string | null } }
  | { 'os-set-encryption': { encrypted: boolean } }
  | { 'os-change-billing': { billing_mode: BillingMode } }
  | { 'os-freeze': { frozen: boolean } };

/** A snapshot or a backup: a copy of a disk's data that blocks its transfer. */
export interface DiskCopyView {
  id: string;
  volume_id: string;
  name: string | null;
  status: 'available';
  size: number;
  created_at: string;
}
export type SnapshotView = DiskCopyView;
export type BackupView = DiskCopyView;

export interface QuotaUsageView {
  /** -1 means unlimited, as in Cinder. */
  limit: number;
  in_use: number;
  reserved: number;
}

export interface QuotaSetView {
  id: string;
  volumes: QuotaUsageView;
  gigabytes: QuotaUsageView;
}

export interface QuotaLimitsChange {
  volumes?: number;
  gigabytes?: number;
}
