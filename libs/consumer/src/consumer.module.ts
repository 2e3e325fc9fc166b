/**
 * What a consumer application imports to get the consume-with-exactly-once-
 * effect machinery: its SQLite file (machinery tables plus the app's), the
 * app's store over it, the processor, the Kafka consumer started once the
 * app is up and stopped before the database closes, and /healthz and
 * /metrics. The app adds its own query controllers over the store.
 */
import {
  type BeforeApplicationShutdown,
  Controller,
  type DynamicModule,
  Get,
  HttpException,
  HttpStatus,
  Inject,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type Database from 'better-sqlite3';
import type { AppConfig } from '../../config/src/config';
import type { Topic } from '../../contracts/src/events';
import { type Migration, openConsumerDatabase } from './consumer-database';
import { type ConsumerMetrics, type EventHandler, ExactlyOnceProcessor } from './event-processor';
import { type ConsumerStatus, KafkaExactlyOnceConsumer } from './kafka-consumer';

export interface ConsumerModuleOptions<Store, Effect> {
  /** The application's name: its logger's, and part of its Kafka client id. */
  name: string;
  dbPath: string;
  /** The application's tables; the machinery's come first. */
  migrations: readonly Migration[];
  groupId: string;
  topics: readonly Topic[];
  kafka: AppConfig['kafka'];
  logLevel: AppConfig['logLevel'];
  /** The application's store over the open database, provided under this token for its controllers. */
  store: { provide: abstract new (...args: never[]) => Store; useFactory: (db: Database.Database) => Store };
  handler: (store: Store) => EventHandler<Effect>;
}

export interface ConsumerHealth {
  status: 'ok' | 'unavailable';
  database: 'ok' | 'closed';
  consumer: ConsumerStatus & { lag: number | null };
}

/** The running parts, with their lifecycle: consume once the app is up, stop before the database closes. */
export class ConsumerRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    readonly db: Database.Database,
    private readonly processor: { metrics(): ConsumerMetrics },
    private readonly consumer: KafkaExactlyOnceConsumer,
  ) {}

  onApplicationBootstrap(): void {
    this.consumer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }

  onApplicationShutdown(): void {
    if (this.db.open) this.db.close();
  }

  async health(): Promise<ConsumerHealth> {
    const database = this.db.open && this.db.prepare('SELECT 1').pluck().get() === 1 ? 'ok' : 'closed';
    const status = this.consumer.status();
    // Lag only once consuming: before that the group may not exist yet.
    const lag = status.state === 'joined' ? await this.consumer.lag() : null;
    return {
      status: database === 'ok' && status.state === 'joined' ? 'ok' : 'unavailable',
      database,
      consumer: { ...status, lag },
    };
  }

  metrics(): ConsumerMetrics {
    return this.processor.metrics();
  }
}

@Controller()
export class ConsumerStatusController {
  constructor(@Inject(ConsumerRuntime) private readonly runtime: ConsumerRuntime) {}

  /** 200 while the database is open and the consumer is in its group; 503 with the same body otherwise. */
  @Get('healthz')
  async health(): Promise<ConsumerHealth> {
    const health = await this.runtime.health();
    if (health.status !== 'ok') throw new HttpException(health, HttpStatus.SERVICE_UNAVAILABLE);
    return health;
  }

  @Get('metrics')
  metrics(): ConsumerMetrics {
    return this.runtime.metrics();
  }
}

@Module({})
export class ConsumerModule {
  static forRoot<Store, Effect>(options: ConsumerModuleOptions<Store, Effect>): DynamicModule {
    const DATABASE = Symbol(`${options.name} database`);
    return {
      module: ConsumerModule,
      controllers: [ConsumerStatusController],
      providers: [
        { provide: DATABASE, useFactory: () => openConsumerDatabase(options.dbPath, options.migrations) },
        { provide: options.store.provide, useFactory: options.store.useFactory, inject: [DATABASE] },
        {
          provide: ConsumerRuntime,
          inject: [DATABASE, options.store.provide],
          useFactory: (db: Database.Database, store: Store) => {
            const logger = new Logger(options.name);
            const processor = new ExactlyOnceProcessor(db, options.handler(store), { logger });
            const consumer = new KafkaExactlyOnceConsumer(
              {
                brokers: options.kafka.brokers,
                clientId: `${options.kafka.clientId}-${options.name}`,
                groupId: options.groupId,
                topics: options.topics,
                logLevel: options.logLevel,
                logger,
              },
              processor,
            );
            return new ConsumerRuntime(db, processor, consumer);
          },
        },
      ],
      exports: [options.store.provide],
    };
  }
}
