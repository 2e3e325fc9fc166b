/**
 * A worker has no HTTP API, but the start scripts and orchestrators need to
 * know when it is polling: /healthz answers 200 only while it is.
 */
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import type { AppConfig } from '../../../libs/config/src/config';
import { TemporalWorkerService } from './temporal-worker.service';
import { APP_CONFIG } from './worker.tokens';

@Injectable()
export class WorkerHealthServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerHealthServer.name);
  private server: Server | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(TemporalWorkerService) private readonly worker: TemporalWorkerService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.server = createServer((req, res) => {
      const healthy = req.url === '/healthz' && this.worker.isRunning();
      res.writeHead(req.url === '/healthz' ? (healthy ? 200 : 503) : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: healthy ? 'ok' : 'unavailable' }));
    });
    const { healthHost, healthPort } = this.config.worker;
    await new Promise<void>((resolve) => this.server!.listen(healthPort, healthHost, resolve));
    this.logger.log(`health on http://${healthHost}:${healthPort}/healthz`);
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
