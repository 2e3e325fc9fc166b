export * from './transfer.definitions';
export * from './reconciler.definitions';
