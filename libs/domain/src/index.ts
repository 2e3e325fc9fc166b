export * from './errors';
export * from './disk';
export * from './transfer';
export * from './ids';
export * from './idempotent-create';
export * from './reconciliation';
