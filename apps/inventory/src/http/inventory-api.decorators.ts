import {
  applyDecorators,
  Controller,
  createParamDecorator,
  Injectable,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { isProjectId } from '../../../../libs/domain/src/ids';
import { badRequest } from './inventory-http.error';

interface RequestWithParams {
  params: Record<string, string | undefined>;
}

/**
 * Admits a tenant request to `/v3/{project_id}/...`. Today it checks only
 * that the project id is well formed; the issue that adds service
 * credentials puts the credential check here, and every tenant route has it.
 */
@Injectable()
export class TenantAccessGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { params } = context.switchToHttp().getRequest<RequestWithParams>();
    if (!isProjectId(params.project_id)) throw badRequest('project_id: must be 1 to 64 letters, digits, "-" or "_"');
    return true;
  }
}

/** A Cinder-style tenant controller at `/v3/{project_id}/{resource}`, behind TenantAccessGuard. */
export function TenantController(resource: string): ClassDecorator {
  return applyDecorators(Controller(`v3/:project_id/${resource}`), UseGuards(TenantAccessGuard));
}

/**
 * A controller of the internal API at `/internal/v1/{resource}`, called by
 * the worker's activities only. The service-credential guard goes here.
 */
export function InternalController(resource: string): ClassDecorator {
  return applyDecorators(Controller(`internal/v1/${resource}`));
}

/** The `{project_id}` path segment, already checked by TenantAccessGuard. */
export const ProjectId = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const projectId = context.switchToHttp().getRequest<RequestWithParams>().params.project_id;
  if (projectId === undefined) throw new Error('@ProjectId() used on a route without :project_id');
  return projectId;
});
