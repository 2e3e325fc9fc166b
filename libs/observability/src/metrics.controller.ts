/**
 * GET /metrics in the Prometheus text format, open like /healthz: Prometheus
 * scrapes without credentials, and nothing here names a project or a key.
 */
import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { ProcessMetrics } from './process-metrics';

@Controller('metrics')
export class MetricsController {
  constructor(@Inject(ProcessMetrics) private readonly metrics: ProcessMetrics) {}

  @Get()
  async scrape(@Res() res: ServerResponse): Promise<void> {
    const { contentType, body } = await this.metrics.scrape();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
  }
}
