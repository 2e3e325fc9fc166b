import { Get, Inject, Query } from '@nestjs/common';
import type { TransferLocksResponse } from '../../../../libs/inventory-client/src/inventory.wire';
import { InternalController } from '../http/inventory-api.decorators';
import { ZodPipe } from '../http/zod.pipe';
import { transferLocksQuery, type TransferLocksQuery } from './transfer-steps.schemas';
import { TransferStepsService } from './transfer-steps.service';

/** Every transfer lock, for the reconciler: the inventory's half of what it compares. */
@InternalController('transfer-locks')
export class TransferLocksController {
  constructor(@Inject(TransferStepsService) private readonly steps: TransferStepsService) {}

  @Get()
  list(@Query(new ZodPipe(transferLocksQuery)) query: TransferLocksQuery): Promise<TransferLocksResponse> {
    return this.steps.listLocks(query);
  }
}
