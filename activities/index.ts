export * from './inventory.activities';
export * from './read-model.activities';
export * from './event.activities';
export * from './reconciler.activities';
