import { Body, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import type { SnapshotView } from '../../../../libs/inventory-client/src/inventory.wire';
import { ProjectId, TenantController } from '../http/inventory-api.decorators';
import { idParam } from '../http/inventory.schemas';
import { ZodBodyPipe } from '../http/zod.pipe';
import { createSnapshotBody, type CreateSnapshotBody } from './disk-copy.schemas';
import { SnapshotService } from './disk-copy.service';

const snapshotId = idParam('snapshot_id');

@TenantController('snapshots')
export class SnapshotController {
  constructor(@Inject(SnapshotService) private readonly snapshots: SnapshotService) {}

  @Post()
  @HttpCode(202)
  async create(
    @ProjectId() projectId: string,
    @Body(new ZodBodyPipe(createSnapshotBody)) body: CreateSnapshotBody,
  ): Promise<{ snapshot: SnapshotView }> {
    return { snapshot: await this.snapshots.create(projectId, body.snapshot) };
  }

  @Get(':snapshot_id')
  async show(@ProjectId() projectId: string, @Param('snapshot_id', snapshotId) id: string): Promise<{ snapshot: SnapshotView }> {
    return { snapshot: await this.snapshots.show(projectId, id) };
  }

  @Delete(':snapshot_id')
  @HttpCode(202)
  delete(@ProjectId() projectId: string, @Param('snapshot_id', snapshotId) id: string): Promise<void> {
    return this.snapshots.delete(projectId, id);
  }
}
