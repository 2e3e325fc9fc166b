import { applyDecorators, Controller, createParamDecorator, UseGuards, type ExecutionContext } from '@nestjs/common';
import { ServiceCredentialsGuard, TenantAccessGuard } from './inventory-auth.guards';

interface RequestWithParams {
  params: Record<string, string | undefined>;
}

/** A Cinder-style tenant controller at `/v3/{project_id}/{resource}`, behind TenantAccessGuard. */
export function TenantController(resource: string): ClassDecorator {
  return applyDecorators(Controller(`v3/:project_id/${resource}`), UseGuards(TenantAccessGuard));
}

/**
 * A controller of the internal API at `/internal/v1/{resource}`, called by
 * services (the worker's activities) only, behind ServiceCredentialsGuard.
 */
export function InternalController(resource: string): ClassDecorator {
  return applyDecorators(Controller(`internal/v1/${resource}`), UseGuards(ServiceCredentialsGuard));
}

/** The `{project_id}` path segment, already checked by TenantAccessGuard. */
export const ProjectId = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const projectId = context.switchToHttp().getRequest<RequestWithParams>().params.project_id;
  if (projectId === undefined) throw new Error('@ProjectId() used on a route without :project_id');
  return projectId;
});
