/**
 * What main.ts and the HTTP tests both apply to the Nest application, so
 * the tests exercise the app as it is served.
 */
import type { NestApplicationOptions } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '../../../libs/config/src/config';
import { httpMetricsMiddleware } from '../../../libs/observability/src/http-metrics';
import { httpTracingMiddleware } from '../../../libs/observability/src/http-tracing';
import { ProcessMetrics } from '../../../libs/observability/src/process-metrics';
import type { TransferReadModel } from '../../../libs/read-model/src/transfer-read-model';
import { APP_CONFIG, TRANSFER_READ_MODEL } from './gateway.tokens';
import { AUDIT_OUTBOX } from './audit/api-audit.service';
import type { AuditOutbox } from './audit/audit-outbox';
import { registerOutboxGauges } from '../../../libs/outbox/src/outbox-gauges';
import { refusalsMiddleware, registerPendingTransferGauges } from './metrics/gateway-metrics';
import { ClientAddressResolver } from './http/client-address';
import { answerUnparsableRequests } from './http/client-error';
import { keepIdleConnectionsOpen } from './http/idle-connections';
import { requestContextMiddleware } from './http/request-context';
import { requestLogMiddleware } from './http/request-log';
import { type RouterLayer, routeMethodsMiddleware } from './http/route-methods';
import { buildOpenApiDocument } from './openapi/openapi.document';
import { microversionMiddleware } from './versions/microversion.middleware';

export const GATEWAY_APP_OPTIONS: NestApplicationOptions = {
  // POST bodies are read by JsonBodyInterceptor, after authentication.
  bodyParser: false,
  // Literal segments ("detail") before parameters (":transferId"), whatever the declaration order.
  routeResolutionStrategy: 'specificity',
  routeConflictPolicy: { duplicate: 'error' },
};

export function configureGateway(app: NestExpressApplication): void {
  const config = app.get<AppConfig>(APP_CONFIG);
  app.disable('x-powered-by');
  app.set('etag', false);
  // First of all, so that every request is timed and every refusal counted, the unrouted included.
  const { registry } = app.get(ProcessMetrics);
  app.use(httpMetricsMiddleware(registry));
  app.use(httpTracingMiddleware());
  app.use(refusalsMiddleware(registry));
  const readModel = app.get<TransferReadModel>(TRANSFER_READ_MODEL);
  registerPendingTransferGauges(registry, () => readModel.pendingSummary());
  registerOutboxGauges(registry, 'api-audit', app.get<AuditOutbox>(AUDIT_OUTBOX));
  // Mounted before anything else, the docs routes included: every response gets X-Request-Id.
  app.use(requestContextMiddleware(new ClientAddressResolver(config.gateway.trustedProxies)));
  // Right after: every later line carries the request id, and each request ends with a line of its own.
  app.use(requestLogMiddleware());
  // Before routing: a refused microversion is answered whatever the path, as in Cinder.
  app.use(microversionMiddleware());
  const express = app.getHttpAdapter().getInstance() as { router: { stack: RouterLayer[] } };
  app.use(routeMethodsMiddleware(() => express.router.stack));
  answerUnparsableRequests(app.getHttpServer());
  keepIdleConnectionsOpen(app.getHttpServer());
  SwaggerModule.setup('docs', app, buildOpenApiDocument(), {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
  });
}
