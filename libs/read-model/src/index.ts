export * from './transfer-read-model';
