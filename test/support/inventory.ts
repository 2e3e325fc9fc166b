/**
 * The inventory as a test harness sees it, beside the tenants of tenants.ts:
 * transfer steps signed with the stack's service secret (read from its
 * DATA_DIR, as the worker reads it), and tenant calls with a token of
 * whichever project a call names, from the stack's local issuer. For setting
 * disks up and checking who owns them; a tenant's own view is Tenant.inventory.
 */
import { loadOrCreateServiceSecret } from '../../libs/auth/src/service-signature';
import { type AppConfig, loadConfig } from '../../libs/config/src/config';
import { InventoryClient } from '../../libs/inventory-client/src/inventory.client';
import { testEnv } from './stack';
import { issueToken } from './tenants';

/** The test stack's inventory by default; pass PrivateStack.config() for a private stack's. */
export function harnessInventory(config: AppConfig = loadConfig(testEnv())): InventoryClient {
  return new InventoryClient(config.inventory.url, {
    serviceSecret: loadOrCreateServiceSecret(config.inventory.serviceSecretFile),
    tenantToken: (projectId) => issueToken(projectId, 'test-harness', ['member'], config.auth),
  });
}
