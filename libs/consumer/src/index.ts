export * from './consumer-app';
export * from './consumer-database';
export * from './consumer.module';
export * from './event-processor';
export * from './kafka-consumer';
export * from './query-access';
export * from './query-http';
