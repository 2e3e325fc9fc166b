import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../../../libs/config/src/config';
import { ConsumerModule } from '../../../libs/consumer/src/consumer.module';
import { TOPICS } from '../../../libs/contracts/src/events';
import { AuditEventsController } from './http/audit-events.controller';
import { auditLogHandler } from './log/audit-log.handler';
import { AUDIT_MIGRATIONS, AuditLogStore } from './log/audit-log.store';

/** The audit log: every event of the three topics in, searchable and never changed. */
@Module({})
export class AuditModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AuditModule,
      imports: [
        ConsumerModule.forRoot({
          name: 'audit',
          database: { store: 'audit', target: config.databases.audit, poolMax: config.databases.poolMax },
          migrations: AUDIT_MIGRATIONS,
          groupId: config.audit.consumerGroup,
          topics: [TOPICS.lifecycle, TOPICS.securityAudit, TOPICS.apiAudit],
          kafka: config.kafka,
          logLevel: config.logLevel,
          tokens: config.auth,
          store: { provide: AuditLogStore, useFactory: (db) => new AuditLogStore(db) },
          handler: auditLogHandler,
        }),
      ],
      controllers: [AuditEventsController],
    };
  }
}
