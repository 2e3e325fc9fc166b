import { Inject, Injectable } from '@nestjs/common';
import { toCinderTimestamp } from '../../../../libs/domain/src/ids';
import type { DiskCopyView } from '../../../../libs/inventory-client/src/inventory.wire';
import { tenantHttpError } from '../http/inventory-http.error';
import {
  BackupRepository,
  SnapshotRepository,
  type DiskCopyRecord,
  type DiskCopyRepository,
} from '../store/disk-copy.repository';
import type { DiskCopyAttrs } from './disk-copy.schemas';

function toDiskCopyView(c: DiskCopyRecord): DiskCopyView {
  return {
    id: c.id,
    volume_id: c.diskId,
    name: c.name,
    status: 'available',
    size: c.sizeGb,
    created_at: toCinderTimestamp(c.createdAtMs),
  };
}

/** Snapshots and backups are served alike; each subclass names its repository. */
abstract class DiskCopyService {
  protected constructor(private readonly copies: DiskCopyRepository) {}

  async create(projectId: string, attrs: DiskCopyAttrs): Promise<DiskCopyView> {
    const outcome = await this.copies.create(projectId, attrs.volume_id, attrs.name ?? null);
    if (!outcome.ok) throw tenantHttpError(outcome.refusal);
    return toDiskCopyView(outcome.value);
  }

  async show(projectId: string, id: string): Promise<DiskCopyView> {
    const copy = await this.copies.find(projectId, id);
    if (copy === null) throw tenantHttpError({ name: 'NotFound' });
    return toDiskCopyView(copy);
  }

  async delete(projectId: string, id: string): Promise<void> {
    const outcome = await this.copies.delete(projectId, id);
    if (!outcome.ok) throw tenantHttpError(outcome.refusal);
  }
}

@Injectable()
export class SnapshotService extends DiskCopyService {
  constructor(@Inject(SnapshotRepository) snapshots: SnapshotRepository) {
    super(snapshots);
  }
}

@Injectable()
export class BackupService extends DiskCopyService {
  constructor(@Inject(BackupRepository) backups: BackupRepository) {
    super(backups);
  }
}
