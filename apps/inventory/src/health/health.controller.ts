import { Controller, Get, Inject } from '@nestjs/common';
import { InventoryHttpError } from '../http/inventory-http.error';
import { InventoryStore } from '../store/inventory.store';

@Controller('healthz')
export class HealthController {
  constructor(@Inject(InventoryStore) private readonly store: InventoryStore) {}

  @Get()
  async check(): Promise<{ status: 'ok' }> {
    if (!(await this.store.isHealthy())) {
      throw new InventoryHttpError('DependencyUnavailable', 503, 'The database does not answer.');
    }
    return { status: 'ok' };
  }
}
