import { Body, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import type { VolumeSummaryView, VolumeView } from '../../../../libs/inventory-client/src/inventory.wire';
import { ProjectId, TenantController } from '../http/inventory-api.decorators';
import { idParam, pageQuerySchema, type PageQuery } from '../http/inventory.schemas';
import { ZodBodyPipe, ZodPipe } from '../http/zod.pipe';
import { createVolumeBody, volumeActionBody, type CreateVolumeBody, type ParsedVolumeAction } from './volume.schemas';
import { VolumeService } from './volume.service';

const volumeId = idParam('volume_id');
const page = new ZodPipe(pageQuerySchema);

@TenantController('volumes')
export class VolumeController {
  constructor(@Inject(VolumeService) private readonly volumes: VolumeService) {}

  @Post()
  @HttpCode(202)
  create(
    @ProjectId() projectId: string,
    @Body(new ZodBodyPipe(createVolumeBody)) body: CreateVolumeBody,
  ): Promise<{ volume: VolumeView }> {
    return this.volumes.create(projectId, body);
  }

  @Get()
  list(@ProjectId() projectId: string, @Query(page) query: PageQuery): Promise<{ volumes: VolumeSummaryView[] }> {
    return this.volumes.list(projectId, query);
  }

  // Declared before ':volume_id' so "detail" is not taken for an id.
  @Get('detail')
  listDetail(@ProjectId() projectId: string, @Query(page) query: PageQuery): Promise<{ volumes: VolumeView[] }> {
    return this.volumes.listDetail(projectId, query);
  }

  @Get(':volume_id')
  show(@ProjectId() projectId: string, @Param('volume_id', volumeId) id: string): Promise<{ volume: VolumeView }> {
    return this.volumes.show(projectId, id);
  }

  @Delete(':volume_id')
  @HttpCode(202)
  delete(@ProjectId() projectId: string, @Param('volume_id', volumeId) id: string): Promise<void> {
    return this.volumes.delete(projectId, id);
  }

  @Post(':volume_id/action')
  @HttpCode(202)
  act(
    @ProjectId() projectId: string,
    @Param('volume_id', volumeId) id: string,
    @Body(new ZodBodyPipe(volumeActionBody)) action: ParsedVolumeAction,
  ): Promise<void> {
    return this.volumes.act(projectId, id, action);
  }
}
