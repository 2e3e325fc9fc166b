/**
 * The inventory's tables as the query layer sees them, column for column.
 * Flags are 0/1 integers on both databases (as the SQLite release stored
 * them), so one row mapping serves both; epoch milliseconds are numbers
 * because the store's pg type parser turns int8 into one.
 */
import type { SeenKeysTable } from '../../../../libs/database/src/seen-keys';
import type { BillingMode, DiskStatus, StorageKind } from '../../../../libs/domain/src/disk';

export interface DisksTable {
  id: string;
  project_id: string;
  name: string | null;
  status: DiskStatus;
  size_gb: number;
  volume_type: string;
  bootable: number;
  encrypted: number;
  backup_policy_id: string | null;
  replication_pair_id: string | null;
  billing_mode: BillingMode;
  frozen: number;
  storage_kind: StorageKind;
  transfer_id: string | null;
  last_transfer_id: string | null;
  attached_to: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface DiskCopiesTable {
  id: string;
  disk_id: string;
  project_id: string;
  name: string | null;
  size_gb: number;
  created_at: number;
}

export interface QuotasTable {
  project_id: string;
  volumes: number;
  gigabytes: number;
  updated_at: number;
}

export interface QuotaGuardsTable {
  project_id: string;
}

export interface InventorySchema {
  disks: DisksTable;
  snapshots: DiskCopiesTable;
  backups: DiskCopiesTable;
  quotas: QuotasTable;
  quota_guards: QuotaGuardsTable;
  /** The internal API's nonces (libs/database/src/seen-keys.ts). */
  seen_keys: SeenKeysTable;
}
