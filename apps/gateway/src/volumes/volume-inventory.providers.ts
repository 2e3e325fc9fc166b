import type { Provider } from '@nestjs/common';
import { loadOrCreateServiceSecret } from '../../../../libs/auth/src/service-signature';
import type { AppConfig } from '../../../../libs/config/src/config';
import { InventoryClient } from '../../../../libs/inventory-client/src/inventory.client';
import { APP_CONFIG, VOLUME_INVENTORY } from '../gateway.tokens';
import type { VolumeInventory } from './volume.service';

/**
 * The inventory's internal API, signed with the service secret the
 * inventory and the worker share: the gateway has authenticated the tenant
 * and applied the policy, and a caller that signed with an access key has no
 * token to pass on. The secret is read on first use, so a gateway whose
 * volume routes are never called does not need it.
 */
export const volumeInventoryProviders: Provider[] = [
  {
    provide: VOLUME_INVENTORY,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig): VolumeInventory => {
      let client: InventoryClient | undefined;
      return {
        listProjectVolumes: (projectId) => {
          client ??= new InventoryClient(config.inventory.url, { serviceSecret: loadOrCreateServiceSecret(config.inventory.serviceSecretFile) });
          return client.listProjectVolumes(projectId);
        },
      };
    },
  },
];
