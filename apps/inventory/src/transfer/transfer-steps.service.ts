import { Inject, Injectable } from '@nestjs/common';
import type { DiskFacts } from '../../../../libs/domain/src/disk';
import type { DiskResponse, TransferLockReleaseResponse, TransferLocksResponse } from '../../../../libs/inventory-client/src/inventory.wire';
import { internalHttpError } from '../http/inventory-http.error';
import { DiskRepository } from '../store/disk.repository';
import { toDiskFacts, type Outcome } from '../store/store.types';
import { TransferLockRepository } from '../store/transfer-lock.repository';
import type { ReassignBody, TransferLockBody, TransferLockReleaseBody, TransferLocksQuery } from './transfer-steps.schemas';

function diskOrThrow(outcome: Outcome<DiskFacts>): DiskResponse {
  if (!outcome.ok) throw internalHttpError(outcome.refusal);
  return { disk: outcome.value };
}

/** The steps a transfer workflow's activities take on a disk (internal API). */
@Injectable()
export class TransferStepsService {
  constructor(
    @Inject(DiskRepository) private readonly disks: DiskRepository,
    @Inject(TransferLockRepository) private readonly locks: TransferLockRepository,
  ) {}

  async getDisk(diskId: string): Promise<DiskResponse> {
    const disk = await this.disks.find(diskId);
    if (disk === null) throw internalHttpError({ name: 'DiskNotFound' });
    return { disk: toDiskFacts(disk) };
  }

  async lock(diskId: string, body: TransferLockBody): Promise<DiskResponse> {
    return diskOrThrow(await this.locks.lock({ diskId, projectId: body.project_id, transferId: body.transfer_id }));
  }

  release(diskId: string, body: TransferLockReleaseBody): Promise<TransferLockReleaseResponse> {
    return this.locks.release({ diskId, transferId: body.transfer_id });
  }

  /** What the reconciler compares with the live transfer workflows. */
  async listLocks(query: TransferLocksQuery): Promise<TransferLocksResponse> {
    const disks = await this.disks.listAwaitingTransfer({ after: query.marker ?? null, limit: query.limit });
    const last = disks.at(-1);
    return {
      disks: disks.map(toDiskFacts),
      next_marker: disks.length === query.limit && last !== undefined ? last.id : null,
    };
  }

  async reassign(diskId: string, body: ReassignBody): Promise<DiskResponse> {
    return diskOrThrow(
      await this.locks.reassign({ diskId, transferId: body.transfer_id, toProjectId: body.to_project_id }),
    );
  }
}
