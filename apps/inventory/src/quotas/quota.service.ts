import { Inject, Injectable } from '@nestjs/common';
import type { QuotaSetView } from '../../../../libs/inventory-client/src/inventory.wire';
import { QuotaRepository } from '../store/quota.repository';
import type { UpdateQuotaBody } from './quota.schemas';

@Injectable()
export class QuotaService {
  constructor(@Inject(QuotaRepository) private readonly quotas: QuotaRepository) {}

  async show(targetProjectId: string): Promise<{ quota_set: QuotaSetView }> {
    const [limits, used] = await Promise.all([this.quotas.limits(targetProjectId), this.quotas.usage(targetProjectId)]);
    return {
      quota_set: {
        id: targetProjectId,
        volumes: { limit: limits.volumes, in_use: used.volumes, reserved: 0 },
        gigabytes: { limit: limits.gigabytes, in_use: used.gigabytes, reserved: 0 },
      },
    };
  }

  async update(targetProjectId: string, { quota_set: change }: UpdateQuotaBody): Promise<{ quota_set: QuotaSetView }> {
    await this.quotas.setLimits(targetProjectId, {
      ...(change.volumes === undefined ? {} : { volumes: change.volumes }),
      ...(change.gigabytes === undefined ? {} : { gigabytes: change.gigabytes }),
    });
    return this.show(targetProjectId);
  }
}
