export * from './transfer.definitions';
