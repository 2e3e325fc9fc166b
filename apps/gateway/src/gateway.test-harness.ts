/**
 * The gateway as the in-process HTTP specs run it: the real module and HTTP
 * pipeline on an ephemeral port, with the workflow port and the event
 * publisher replaced by the spec's own (no Temporal, no Kafka: these specs
 * test the HTTP layer; the stack's tests run the real ones).
 */
import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AppConfig } from '../../../libs/config/src/config';
import { EVENT_PUBLISHER, type EventPublisher } from '../../../libs/kafka/src/event-publisher';
import { GatewayModule } from './gateway.module';
import { configureGateway, GATEWAY_APP_OPTIONS } from './gateway.setup';
import { TRANSFER_WORKFLOWS } from './temporal/transfer-workflows.port';
import { VOLUME_INVENTORY } from './gateway.tokens';
import type { VolumeInventory } from './volumes/volume.service';

export interface ListeningGateway {
  app: NestExpressApplication;
  /** http://127.0.0.1:<port> */
  url: string;
}

/** `volumes`: the inventory's volume read, when a spec serves volumes without an inventory. */
export async function listenGateway(
  config: AppConfig,
  workflows: object,
  publisher: EventPublisher,
  options: { volumes?: VolumeInventory } = {},
): Promise<ListeningGateway> {
  let builder = Test.createTestingModule({ imports: [GatewayModule.forRoot(config)] })
    .overrideProvider(TRANSFER_WORKFLOWS)
    .useValue(workflows)
    .overrideProvider(EVENT_PUBLISHER)
    .useValue(publisher);
  if (options.volumes) builder = builder.overrideProvider(VOLUME_INVENTORY).useValue(options.volumes);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ ...GATEWAY_APP_OPTIONS, logger: false });
  configureGateway(app);
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}
