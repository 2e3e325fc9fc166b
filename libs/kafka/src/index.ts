export * from './cloud-event-record';
export * from './event-publisher';
export * from './kafka-client';
export * from './kafka.module';
export * from './topics';
