import { Get, Inject, Param, Query } from '@nestjs/common';
import type { ProjectVolumesResponse } from '../../../../libs/inventory-client/src/inventory.wire';
import { InternalController } from '../http/inventory-api.decorators';
import { pageQuerySchema, projectIdParam, type PageQuery } from '../http/inventory.schemas';
import { ZodPipe } from '../http/zod.pipe';
import { VolumeService } from './volume.service';

const page = new ZodPipe(pageQuerySchema);

/**
 * A project's volumes for a service that has already authenticated the
 * tenant and applied its policy: the gateway, which serves Cinder's volume
 * reads beside the transfers (it holds no tenant token to call the tenant
 * API with when the caller signed with an access key). Read-only: writes to
 * volumes stay on the tenant API.
 */
@InternalController('projects')
export class ProjectVolumesController {
  constructor(@Inject(VolumeService) private readonly volumes: VolumeService) {}

  @Get(':project_id/volumes')
  list(@Param('project_id', projectIdParam('project_id')) projectId: string, @Query(page) query: PageQuery): Promise<ProjectVolumesResponse> {
    return this.volumes.listDetail(projectId, query);
  }
}
