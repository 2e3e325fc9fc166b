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
import { concatMap, type Observable } from 'rxjs';
import type { ApiAction } from '../../../../libs/contracts/src/events';
import type { HttpRequest, HttpResponse } from '../http/http.types';
import { requestContext } from '../http/request-context';
import { parseAllTenants } from '../transfers/transfer.validation';
import { ApiAuditService } from './api-audit.service';

const ROUTE_ACTION = 'evs:route-action';

interface RouteAction {
  action: ApiAction;
  /** The action instead when the query asks for every project's transfers (all_tenants). */
  allProjects?: ApiAction;
}

/**
 * Names the API action a route performs: what the policy table grants to
 * roles (PolicyGuard) and what the API audit records (for the actions in
 * AUDITED_ACTIONS). Every transfer route carries one.
 */
export const ActsAs = (action: ApiAction, options: { allProjects?: ApiAction } = {}) =>
  SetMetadata(ROUTE_ACTION, { action, ...options } satisfies RouteAction);

/**
 * Notes the route's action on the request before anything can refuse it (it
 * is listed before AuthGuard), so a call refused for its credentials or by
 * policy is audited as well. It never refuses anything itself: a guard is
 * simply the first step of the pipeline that knows the route.
 *
 * A list that asks for all_tenants is the administrator's action, whatever
 * the value's spelling beyond a plain "no" (a malformed value is then a bad
 * request for an administrator), with the plain list as its fallback: for a
 * caller the policy does not let list every project, PolicyGuard falls back
 * to its own project's list, as Cinder does (python-cinderclient's find()
 * always sends all_tenants=1).
 */
@Injectable()
export class RouteActionGuard implements CanActivate {
  constructor(@Inject(Reflector) private readonly reflector: Reflector) {}

  canActivate(execution: ExecutionContext): boolean {
    const route = this.reflector.get<RouteAction | undefined>(ROUTE_ACTION, execution.getHandler());
    if (route === undefined) return true;
    const req = execution.switchToHttp().getRequest<HttpRequest>();
    const { action, allProjects } = route;
    const context = requestContext(req);
    const widened = allProjects !== undefined && parseAllTenants(req.query) !== false;
    context.action = widened ? allProjects : action;
    context.fallbackAction = widened ? action : null;
    return true;
  }
}

/**
 * Records successful audited calls; failures are recorded by the exception
 * filter, which every error passes through. Nest has set the route's status
 * (@HttpCode) on the response before interceptors run. The answer waits for
 * the record to be committed, so no client sees an answer whose record
 * could still be lost.
 */
@Injectable()
export class ApiAuditInterceptor implements NestInterceptor {
  constructor(@Inject(ApiAuditService) private readonly audit: ApiAuditService) {}

  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = execution.switchToHttp();
    const context = requestContext(http.getRequest<HttpRequest>());
    const res = http.getResponse<HttpResponse>();
    return next.handle().pipe(
      concatMap(async (body: unknown) => {
        await this.audit.recordOutcome(context, res.statusCode, null);
        return body;
      }),
    );
  }
}
