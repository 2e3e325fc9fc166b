import { Inject, Injectable } from '@nestjs/common';
import type { QuotaSetView } from '../../../../libs/inventory-client/src/inventory.wire';
import { QuotaRepository } from '../store/quota.repository';
import type { UpdateQuotaBody } from './quota.schemas';

@Injectable()
export class QuotaService {
  constructor(@Inject(QuotaRepository) private readonly quotas: QuotaRepository) {}

  show(targetProjectId: string): { quota_set: QuotaSetView } {
    const limits = this.quotas.limits(targetProjectId);
    const used = this.quotas.usage(targetProjectId);
    return {
      quota_set: {
        id: targetProjectId,
        volumes: { limit: limits.volumes, in_use: used.volumes, reserved: 0 },
        gigabytes: { limit: limits.gigabytes, in_use: used.gigabytes, reserved: 0 },
      },
    };
  }

  update(targetProjectId: string, { quota_set: change }: UpdateQuotaBody): { quota_set: QuotaSetView } {
    this.quotas.setLimits(targetProjectId, {
      ...(change.volumes === undefined ? {} : { volumes: change.volumes }),
      ...(change.gigabytes === undefined ? {} : { gigabytes: change.gigabytes }),
    });
    return this.show(targetProjectId);
  }
}
