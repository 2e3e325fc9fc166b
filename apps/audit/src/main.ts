/** The audit process: an append-only log of every event on the three topics, searchable over HTTP. */
import 'reflect-metadata';
import { runConsumerApp } from '../../../libs/consumer/src/consumer-app';
import { AuditModule } from './audit.module';

runConsumerApp({ name: 'Audit', module: (config) => AuditModule.forRoot(config), listen: (config) => config.audit });
