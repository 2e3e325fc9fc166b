/**
 * Cinder's volume reads at the transfer endpoint, for v2 and v3 alike,
 * behind the same guards as the transfers (credentials, the path's project,
 * the policy table). Read-only: creating, changing and deleting volumes stay
 * on the inventory's own API, so any other method here is a 405.
 */
import { Controller, Get, Inject, Param, Query, UseGuards, UseInterceptors } from '@nestjs/common';
import { API_ACTIONS } from '../../../../libs/contracts/src/events';
import { ActsAs, ApiAuditInterceptor, RouteActionGuard } from '../audit/api-audit.decorators';
import { AuthGuard } from '../auth/auth.guard';
import { PolicyGuard } from '../auth/policy.guard';
import { type Caller, CallerInfo } from '../transfers/caller.decorator';
import { VolumeService } from './volume.service';

export const VOLUME_ROUTE_PREFIXES = ['v2/:projectId/volumes', 'v3/:projectId/volumes'];

@Controller(VOLUME_ROUTE_PREFIXES)
@UseGuards(RouteActionGuard, AuthGuard, PolicyGuard)
@UseInterceptors(ApiAuditInterceptor)
export class VolumeController {
  constructor(@Inject(VolumeService) private readonly volumes: VolumeService) {}

  @Get()
  @ActsAs(API_ACTIONS.listVolumes)
  list(@CallerInfo() caller: Caller, @Query() query: Record<string, unknown>) {
    return this.volumes.list(caller, query);
  }

  @Get('detail')
  @ActsAs(API_ACTIONS.listVolumes)
  listDetail(@CallerInfo() caller: Caller, @Query() query: Record<string, unknown>) {
    return this.volumes.listDetail(caller, query);
  }

  @Get(':volumeId')
  @ActsAs(API_ACTIONS.getVolume)
  show(@CallerInfo() caller: Caller, @Param('volumeId') volumeId: string) {
    return this.volumes.show(caller, volumeId);
  }
}
