import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { openOrExit } from '../../../../libs/database/src/open-or-exit';
import type { AppConfig } from '../../../../libs/config/src/config';
import { APP_CONFIG, GATEWAY_GUARDS } from '../gateway.tokens';
import { GatewayGuards } from './gateway-guards.store';

/** Closes the guards' connections after the HTTP server has stopped. */
@Injectable()
export class GatewayGuardsLifecycle implements OnApplicationShutdown {
  constructor(@Inject(GATEWAY_GUARDS) private readonly guards: GatewayGuards) {}

  async onApplicationShutdown(): Promise<void> {
    await this.guards.close();
  }
}

export const guardsProviders: Provider[] = [
  {
    provide: GATEWAY_GUARDS,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) =>
      openOrExit(() => GatewayGuards.open(config.databases.gatewayGuards, config.gateway.acceptCallerLimit, { poolMax: config.databases.poolMax })),
  },
  GatewayGuardsLifecycle,
];
