/**
 * Every store the service keeps, in one place: the variable that points it at
 * a database, the SQLite file it uses by default, and the PostgreSQL schema it
 * lives in when several stores share one database (DATABASE_URL).
 *
 * A schema per store, rather than one namespace for all, because two stores
 * have tables of the same name (billing and audit both keep consumed_events)
 * and because each store migrates on its own.
 */
export const STORES = {
  readModel: { env: 'READ_MODEL_DATABASE_URL', file: 'transfers.sqlite', schema: 'read_model' },
  gatewayGuards: { env: 'GATEWAY_GUARDS_DATABASE_URL', file: 'gateway-guards.sqlite', schema: 'gateway_guards' },
  gatewayOutbox: { env: 'GATEWAY_OUTBOX_DATABASE_URL', file: 'gateway-outbox.sqlite', schema: 'gateway_outbox' },
  accessKeys: { env: 'ACCESS_KEY_DATABASE_URL', file: 'access-keys.sqlite', schema: 'access_keys' },
  inventory: { env: 'INVENTORY_DATABASE_URL', file: 'inventory.sqlite', schema: 'inventory' },
  reconciler: { env: 'RECONCILER_DATABASE_URL', file: 'reconciler.sqlite', schema: 'reconciler' },
  billing: { env: 'BILLING_DATABASE_URL', file: 'billing.sqlite', schema: 'billing' },
  audit: { env: 'AUDIT_DATABASE_URL', file: 'audit.sqlite', schema: 'audit' },
} as const satisfies Record<string, StoreFacts>;

export interface StoreFacts {
  /** The variable naming this store's own database; it wins over DATABASE_URL. */
  env: string;
  /** Its SQLite file in DATA_DIR when nothing else is said. */
  file: string;
  /** Its PostgreSQL schema; also names its migration tables. */
  schema: string;
}

export type StoreName = keyof typeof STORES;

export const STORE_NAMES = Object.keys(STORES) as StoreName[];
