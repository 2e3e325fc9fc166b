import { Body, Get, Inject, Param, Put } from '@nestjs/common';
import type { QuotaSetView } from '../../../../libs/inventory-client/src/inventory.wire';
import { TenantController } from '../http/inventory-api.decorators';
import { projectIdParam } from '../http/inventory.schemas';
import { ZodBodyPipe } from '../http/zod.pipe';
import { updateQuotaBody, type UpdateQuotaBody } from './quota.schemas';
import { QuotaService } from './quota.service';

const targetProjectId = projectIdParam('target_project_id');

@TenantController('os-quota-sets')
export class QuotaController {
  constructor(@Inject(QuotaService) private readonly quotas: QuotaService) {}

  @Get(':target_project_id')
  show(@Param('target_project_id', targetProjectId) target: string): { quota_set: QuotaSetView } {
    return this.quotas.show(target);
  }

  @Put(':target_project_id')
  update(
    @Param('target_project_id', targetProjectId) target: string,
    @Body(new ZodBodyPipe(updateQuotaBody)) body: UpdateQuotaBody,
  ): { quota_set: QuotaSetView } {
    return this.quotas.update(target, body);
  }
}
