import { Body, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import type { DiskResponse, TransferLockReleaseResponse } from '../../../../libs/inventory-client/src/inventory.wire';
import { InternalController } from '../http/inventory-api.decorators';
import { idParam } from '../http/inventory.schemas';
import { ZodBodyPipe } from '../http/zod.pipe';
import {
  reassignBody,
  transferLockBody,
  transferLockReleaseBody,
  type ReassignBody,
  type TransferLockBody,
  type TransferLockReleaseBody,
} from './transfer-steps.schemas';
import { TransferStepsService } from './transfer-steps.service';

const diskId = idParam('disk_id');

@InternalController('disks')
export class TransferStepsController {
  constructor(@Inject(TransferStepsService) private readonly steps: TransferStepsService) {}

  @Get(':disk_id')
  getDisk(@Param('disk_id', diskId) id: string): Promise<DiskResponse> {
    return this.steps.getDisk(id);
  }

  @Post(':disk_id/transfer-lock')
  @HttpCode(200)
  lock(
    @Param('disk_id', diskId) id: string,
    @Body(new ZodBodyPipe(transferLockBody)) body: TransferLockBody,
  ): Promise<DiskResponse> {
    return this.steps.lock(id, body);
  }

  @Post(':disk_id/transfer-lock/release')
  @HttpCode(200)
  release(
    @Param('disk_id', diskId) id: string,
    @Body(new ZodBodyPipe(transferLockReleaseBody)) body: TransferLockReleaseBody,
  ): Promise<TransferLockReleaseResponse> {
    return this.steps.release(id, body);
  }

  @Post(':disk_id/reassign')
  @HttpCode(200)
  reassign(
    @Param('disk_id', diskId) id: string,
    @Body(new ZodBodyPipe(reassignBody)) body: ReassignBody,
  ): Promise<DiskResponse> {
    return this.steps.reassign(id, body);
  }
}
