import type { ExecutionContext } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { API_ACTIONS, type ApiAction } from '../../../../libs/contracts/src/events';
import { DomainError } from '../../../../libs/domain/src/errors';
import type { HttpRequest } from '../http/http.types';
import { requestContext } from '../http/request-context';
import { PolicyGuard } from './policy.guard';

function execution(action: ApiAction | null, roles: string[] | null): ExecutionContext {
  const req = { headers: {}, socket: { remoteAddress: '127.0.0.1' } } as unknown as HttpRequest;
  const context = requestContext(req);
  context.action = action;
  context.principal = roles === null ? null : { projectId: 'p1', userId: 'u1', roles };
  return { switchToHttp: () => ({ getRequest: () => req }) } as unknown as ExecutionContext;
}

const guard = new PolicyGuard();

describe('PolicyGuard', () => {
  it('lets a caller through when one of its roles allows the route’s action', () => {
    expect(guard.canActivate(execution(API_ACTIONS.get, ['reader']))).toBe(true);
    expect(guard.canActivate(execution(API_ACTIONS.forceDelete, ['member', 'admin']))).toBe(true);
  });

  it('refuses with PolicyForbidden, naming the action and the roles that would allow it', () => {
    const refusal = (() => {
      try {
        guard.canActivate(execution(API_ACTIONS.accept, ['reader']));
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(refusal).toBeInstanceOf(DomainError);
    expect((refusal as DomainError).errorName).toBe('PolicyForbidden');
    expect((refusal as DomainError).message).toBe('Policy forbids evs:transfers:accept for these credentials: it needs one of the roles member, admin.');
  });

  it('fails closed, as an internal error, on a route without an action or before authentication', () => {
    expect(() => guard.canActivate(execution(null, ['admin']))).toThrow(/without an action/);
    expect(() => guard.canActivate(execution(API_ACTIONS.list, null))).toThrow(/after AuthGuard/);
  });
});
