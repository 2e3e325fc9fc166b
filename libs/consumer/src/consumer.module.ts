/**
 * What a consumer application imports to get the consume-with-exactly-once-
 * effect machinery: its database (machinery tables plus the app's), the
 * app's store over it, the processor, the Kafka consumer started once the
 * app is up and stopped before the database closes, /healthz and /metrics
 * (open to probes), and the guard that lets only administrators' tokens
 * reach every other route (query-access.ts). The app adds its own query
 * controllers over the store; they are guarded without asking.
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
  Req,
  Res,
} from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type QueryExecutorProvider, sql } from 'kysely';
import type { JwtKeySettings } from '../../auth/src/jwt-verifier.setup';
import type { AppConfig } from '../../config/src/config';
import type { Topic } from '../../contracts/src/events';
import type { DatabaseTarget } from '../../database/src/database-url';
import type { StoreDatabase, StoreMigration } from '../../database/src/store-database';
import type { StoreName } from '../../database/src/stores';
import { type ConsumerTables, openConsumerDatabase } from './consumer-database';
import { type ConsumerMetrics, type EventHandler, ExactlyOnceProcessor } from './event-processor';
import { type ConsumerStatus, KafkaExactlyOnceConsumer, type PartitionLag } from './kafka-consumer';
import { registerConsumerMetrics } from './consumer-prometheus';
import { ProcessMetrics } from '../../observability/src/process-metrics';
import { OpenRoute, queryAccessProviders } from './query-access';

export interface ConsumerModuleOptions<Store, Effect, AppTables> {
  /** The application's name: its logger's, and part of its Kafka client id. */
  name: string;
  /** Which store the database is (its schema on PostgreSQL), where it is, and the connections a replica may hold. */
  database: { store: StoreName; target: DatabaseTarget; poolMax: number };
  /** The application's tables; the machinery's are sorted in with them. */
  migrations: readonly StoreMigration[];
  groupId: string;
  topics: readonly Topic[];
  kafka: AppConfig['kafka'];
  logLevel: AppConfig['logLevel'];
  /** How X-Auth-Token is verified (config.auth): the query routes take the gateway's tokens, of administrators. */
  tokens: JwtKeySettings;
  /** The application's store over the open database, provided under this token for its controllers. */
  store: { provide: abstract new (...args: never[]) => Store; useFactory: (db: StoreDatabase<ConsumerTables & AppTables>) => Store };
  handler: (store: Store) => EventHandler<Effect, AppTables>;
}

export interface ConsumerHealth {
  status: 'ok' | 'unavailable';
  /** closed: shut down; unavailable: the database did not answer (PostgreSQL away). */
  database: 'ok' | 'closed' | 'unavailable';
  consumer: ConsumerStatus & { lag: number | null };
}

/** What the runtime needs of the store: a connection to ask whether it answers, and closing it. */
type DatabaseHandle = Pick<StoreDatabase<never>, 'close'> & { readonly db: QueryExecutorProvider };

/** The running parts, with their lifecycle: consume once the app is up, stop before the database closes. */
export class ConsumerRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private closed = false;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly processor: { metrics(): Promise<ConsumerMetrics> },
    private readonly consumer: KafkaExactlyOnceConsumer,
  ) {}

  onApplicationBootstrap(): void {
    this.consumer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.database.close();
  }

  async health(): Promise<ConsumerHealth> {
    const database = this.closed ? 'closed' : await this.ping();
    const status = this.consumer.status();
    // Lag only once consuming: before that the group may not exist yet.
    const lag = status.state === 'joined' ? await this.consumer.lag() : null;
    return {
      status: database === 'ok' && status.state === 'joined' ? 'ok' : 'unavailable',
      database,
      consumer: { ...status, lag },
    };
  }

  metrics(): Promise<ConsumerMetrics> {
    return this.processor.metrics();
  }

  lagByPartition(): Promise<PartitionLag[] | null> {
    return this.consumer.lagByPartition();
  }

  get groupId(): string {
    return this.consumer.status().group_id;
  }

  /** One query, not retried: a health check answers now, and the next one asks again. */
  private async ping(): Promise<'ok' | 'unavailable'> {
    try {
      const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(this.database.db);
      return Number(rows[0]?.one) === 1 ? 'ok' : 'unavailable';
    } catch {
      return 'unavailable';
    }
  }
}

/** Open: operators' probes and Prometheus call these without credentials, and they name no project. */
@Controller()
@OpenRoute()
export class ConsumerStatusController {
  constructor(
    @Inject(ConsumerRuntime) private readonly runtime: ConsumerRuntime,
    @Inject(ProcessMetrics) private readonly processMetrics: ProcessMetrics,
  ) {}

  /** 200 while the database is open and the consumer is in its group; 503 with the same body otherwise. */
  @Get('healthz')
  async health(): Promise<ConsumerHealth> {
    const health = await this.runtime.health();
    if (health.status !== 'ok') throw new HttpException(health, HttpStatus.SERVICE_UNAVAILABLE);
    return health;
  }

  /**
   * The Prometheus text format, as Prometheus asks for it; the JSON view
   * (since_start and stored counts) to a client that asks for
   * application/json.
   */
  @Get('metrics')
  async metrics(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    if ((req.headers.accept ?? '').includes('application/json')) {
      const body: ConsumerMetrics = await this.runtime.metrics();
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
      return;
    }
    const { contentType, body } = await this.processMetrics.scrape();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
  }
}

@Module({})
export class ConsumerModule {
  static forRoot<Store, Effect, AppTables>(options: ConsumerModuleOptions<Store, Effect, AppTables>): DynamicModule {
    const DATABASE = Symbol(`${options.name} database`);
    return {
      module: ConsumerModule,
      controllers: [ConsumerStatusController],
      providers: [
        {
          provide: DATABASE,
          useFactory: () =>
            openConsumerDatabase<AppTables>({
              store: options.database.store,
              target: options.database.target,
              migrations: options.migrations,
              poolMax: options.database.poolMax,
            }),
        },
        { provide: options.store.provide, useFactory: options.store.useFactory, inject: [DATABASE] },
        { provide: ProcessMetrics, useValue: new ProcessMetrics() },
        {
          provide: ConsumerRuntime,
          inject: [DATABASE, options.store.provide, ProcessMetrics],
          useFactory: (db: StoreDatabase<ConsumerTables & AppTables>, store: Store, processMetrics: ProcessMetrics) => {
            const logger = new Logger(options.name);
            const processor = new ExactlyOnceProcessor(db, options.handler(store), { logger, groupId: options.groupId });
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
            const runtime = new ConsumerRuntime(db, processor, consumer);
            registerConsumerMetrics(processMetrics.registry, runtime);
            return runtime;
          },
        },
        ...queryAccessProviders(options.tokens),
      ],
      exports: [options.store.provide],
    };
  }
}
