import { Body, Get, Inject, Param, Put } from '@nestjs/common';
import type { QuotaSetView } from '../../../../libs/inventory-client/src/inventory.wire';
import { ProjectId, TenantController } from '../http/inventory-api.decorators';
import { forbidden } from '../http/inventory-http.error';
import { projectIdParam } from '../http/inventory.schemas';
import { ZodBodyPipe } from '../http/zod.pipe';
import { updateQuotaBody, type UpdateQuotaBody } from './quota.schemas';
import { QuotaService } from './quota.service';

const targetProjectId = projectIdParam('target_project_id');

/** As in Cinder, another project's quota is an administrator's business; the inventory has no administrators. */
function ownQuota(projectId: string, target: string): string {
  if (target !== projectId) throw forbidden("A project may read and set only its own quota.");
  return target;
}

@TenantController('os-quota-sets')
export class QuotaController {
  constructor(@Inject(QuotaService) private readonly quotas: QuotaService) {}

  @Get(':target_project_id')
  show(
    @ProjectId() projectId: string,
    @Param('target_project_id', targetProjectId) target: string,
  ): Promise<{ quota_set: QuotaSetView }> {
    return this.quotas.show(ownQuota(projectId, target));
  }

  @Put(':target_project_id')
  update(
    @ProjectId() projectId: string,
    @Param('target_project_id', targetProjectId) target: string,
    @Body(new ZodBodyPipe(updateQuotaBody)) body: UpdateQuotaBody,
  ): Promise<{ quota_set: QuotaSetView }> {
    return this.quotas.update(ownQuota(projectId, target), body);
  }
}
