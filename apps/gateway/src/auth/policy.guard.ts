import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { authorize, policyRefusalMessage } from '../../../../libs/auth/src/policy';
import { DomainError } from '../../../../libs/domain/src/errors';
import type { HttpRequest } from '../http/http.types';
import { requestContext } from '../http/request-context';

/**
 * Enforces the policy table (libs/auth/src/policy.ts) on the route's action
 * (noted by RouteActionGuard), after AuthGuard has authenticated the caller
 * and checked the path's project: credentials with none of the roles the
 * action allows are refused with 403 PolicyForbidden, unless the route has
 * a narrower fallback they may do (a tenant's all_tenants list), which then
 * becomes the request's action.
 */
@Injectable()
export class PolicyGuard implements CanActivate {
  canActivate(execution: ExecutionContext): boolean {
    const context = requestContext(execution.switchToHttp().getRequest<HttpRequest>());
    // Both are wiring mistakes, not a caller's: fail closed, loudly (500).
    if (context.principal === null) throw new Error('PolicyGuard runs after AuthGuard');
    if (context.action === null) throw new Error('route without an action: tag it with @ActsAs');
    const decision = authorize(context.principal.roles, context.action);
    if (!decision.allowed && context.fallbackAction !== null && authorize(context.principal.roles, context.fallbackAction).allowed) {
      context.action = context.fallbackAction;
      context.fallbackAction = null;
      return true;
    }
    if (!decision.allowed) {
      throw new DomainError('PolicyForbidden', { message: policyRefusalMessage(context.action, decision.allowedRoles) });
    }
    return true;
  }
}
