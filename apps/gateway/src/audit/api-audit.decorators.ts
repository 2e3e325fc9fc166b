import {
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Observable, tap } from 'rxjs';
import type { ApiAction } from '../../../../libs/contracts/src/events';
import type { HttpRequest, HttpResponse } from '../http/http.types';
import { requestContext } from '../http/request-context';
import { ApiAuditService } from './api-audit.service';

const AUDITED_ACTION = 'evs:audited-action';

/** Marks a route as a mutating call that leaves an API audit record. */
export const AuditedAs = (action: ApiAction) => SetMetadata(AUDITED_ACTION, action);

/**
 * Notes the route's audited action on the request before anything can
 * refuse it (it is listed before AuthGuard), so a call refused for its
 * credentials is audited as well. It never refuses anything itself: a guard
 * is simply the first step of the pipeline that knows the route.
 */
@Injectable()
export class AuditActionGuard implements CanActivate {
  constructor(@Inject(Reflector) private readonly reflector: Reflector) {}

  canActivate(execution: ExecutionContext): boolean {
    const action = this.reflector.get<ApiAction | undefined>(AUDITED_ACTION, execution.getHandler());
    if (action !== undefined) requestContext(execution.switchToHttp().getRequest<HttpRequest>()).action = action;
    return true;
  }
}

/**
 * Records successful audited calls; failures are recorded by the exception
 * filter, which every error passes through. Nest has set the route's status
 * (@HttpCode) on the response before interceptors run.
 */
@Injectable()
export class ApiAuditInterceptor implements NestInterceptor {
  constructor(@Inject(ApiAuditService) private readonly audit: ApiAuditService) {}

  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = execution.switchToHttp();
    const context = requestContext(http.getRequest<HttpRequest>());
    const res = http.getResponse<HttpResponse>();
    return next.handle().pipe(tap({ next: () => this.audit.recordOutcome(context, res.statusCode, null) }));
  }
}
