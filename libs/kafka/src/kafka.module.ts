import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Logger,
  Module,
} from '@nestjs/common';
import { type AppConfig, loadConfig } from '../../config/src/config';
import type { ProcessMetrics } from '../../observability/src/process-metrics';
import { EVENT_PUBLISHER, type EventPublisher, KafkaEventPublisher } from './event-publisher';
import { MeteredEventPublisher } from './metered-event-publisher';

export interface KafkaModuleOptions {
  /** Settings to use instead of loadConfig()'s. */
  config?: Pick<AppConfig, 'kafka' | 'logLevel'>;
  /** Register EVENT_PUBLISHER for every module (default true). */
  global?: boolean;
  /** The process's metrics, to count what is published in. */
  metrics?: ProcessMetrics;
}

/**
 * Provides EVENT_PUBLISHER (a KafkaEventPublisher, connected on first use)
 * and disconnects it when the application shuts down.
 */
@Module({})
export class KafkaModule implements BeforeApplicationShutdown {
  constructor(@Inject(EVENT_PUBLISHER) private readonly publisher: EventPublisher) {}

  static forRoot(options: KafkaModuleOptions = {}): DynamicModule {
    return {
      module: KafkaModule,
      global: options.global ?? true,
      providers: [
        {
          provide: EVENT_PUBLISHER,
          useFactory: (): EventPublisher => {
            const config = options.config ?? loadConfig();
            const publisher = new KafkaEventPublisher({
              brokers: config.kafka.brokers,
              clientId: config.kafka.clientId,
              logLevel: config.logLevel,
              logger: new Logger(KafkaEventPublisher.name),
            });
            return options.metrics ? new MeteredEventPublisher(publisher, options.metrics.registry) : publisher;
          },
        },
      ],
      exports: [EVENT_PUBLISHER],
    };
  }

  async beforeApplicationShutdown(): Promise<void> {
    const publisher = this.publisher as EventPublisher & { disconnect?: () => Promise<void> };
    if (typeof publisher.disconnect === 'function') {
      await publisher.disconnect();
    }
  }
}
