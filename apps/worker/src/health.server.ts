/**
 * A worker has no HTTP API, but the start scripts and orchestrators need to
 * know when it is polling: /healthz answers 200 only while it is. /metrics
 * is the process's own Prometheus exposition (the Temporal SDK serves its
 * metrics on a port of its own, WORKER_SDK_METRICS_PORT).
 */
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import type { AppConfig } from '../../../libs/config/src/config';
import { ProcessMetrics } from '../../../libs/observability/src/process-metrics';
import { TemporalWorkerService } from './temporal-worker.service';
import { APP_CONFIG } from './worker.tokens';

@Injectable()
export class WorkerHealthServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerHealthServer.name);
  private server: Server | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(TemporalWorkerService) private readonly worker: TemporalWorkerService,
    @Inject(ProcessMetrics) private readonly metrics: ProcessMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url === '/metrics' && req.method === 'GET') {
        this.metrics.scrape().then(
          ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body),
          () => res.writeHead(500).end(),
        );
        return;
      }
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
