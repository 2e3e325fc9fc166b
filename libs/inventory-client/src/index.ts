export * from './inventory.client';
export * from './inventory.wire';
