/**
 * Version discovery, as Cinder serves it and without credentials (clients
 * fetch it before they authenticate any call):
 *   GET /         300 Multiple Choices, every version
 *   GET /v2[/]    200, v2 alone
 *   GET /v3[/]    200, v3 alone
 * Cinder redirects `/v3` to `/v3/`; the gateway answers both directly with
 * the same document (keystoneauth asks for `/v3` first). Any other version
 * stays an unknown route (404).
 */
import { Controller, Get, HttpCode, Inject, Req } from '@nestjs/common';
import type { AppConfig } from '../../../../libs/config/src/config';
import { APP_CONFIG } from '../gateway.tokens';
import type { HttpRequest } from '../http/http.types';
import { API_VERSIONS, type ApiVersion, requestBaseUrl } from '../transfers/transfer.presenter';
import { type VersionsDocument, versionsDocument } from './versions.presenter';

@Controller()
export class VersionsController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get()
  @HttpCode(300)
  all(@Req() req: HttpRequest): VersionsDocument {
    return versionsDocument(this.baseUrl(req), API_VERSIONS);
  }

  @Get('v2')
  v2(@Req() req: HttpRequest): VersionsDocument {
    return this.one(req, 'v2');
  }

  @Get('v3')
  v3(@Req() req: HttpRequest): VersionsDocument {
    return this.one(req, 'v3');
  }

  private one(req: HttpRequest, version: ApiVersion): VersionsDocument {
    return versionsDocument(this.baseUrl(req), [version]);
  }

  private baseUrl(req: HttpRequest): string {
    return requestBaseUrl(this.config.gateway.publicBaseUrl, {
      protocol: req.protocol,
      host: req.headers.host,
      localAddress: req.socket.localAddress,
      localPort: req.socket.localPort,
    });
  }
}
