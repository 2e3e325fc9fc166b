/**
 * The os-volume-transfer routes, for v2 and v3 alike, and v3's own
 * `volume-transfers` routes (microversion 3.55 and later): one controller
 * mounted under the three literal prefixes, so the two routes share every
 * guard and the one service, and any other version is simply an unknown
 * route (404).
 */
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { API_ACTIONS } from '../../../../libs/contracts/src/events';
import { ActsAs, ApiAuditInterceptor, RouteActionGuard } from '../audit/api-audit.decorators';
import { AuthGuard } from '../auth/auth.guard';
import { PolicyGuard } from '../auth/policy.guard';
import { JsonBodyInterceptor } from '../http/json-body.interceptor';
import { type Caller, CallerInfo, IdempotencyKeyHeader } from './caller.decorator';
import { TransferService } from './transfer.service';

export const TRANSFER_ROUTE_PREFIXES = [
  'v2/:projectId/os-volume-transfer',
  'v3/:projectId/os-volume-transfer',
  'v3/:projectId/volume-transfers',
];

@Controller(TRANSFER_ROUTE_PREFIXES)
// In this order: the action is noted first (so every refusal is audited), then the caller is
// authenticated and held to the path's project, then the policy table is applied.
@UseGuards(RouteActionGuard, AuthGuard, PolicyGuard)
@UseInterceptors(ApiAuditInterceptor)
export class TransferController {
  constructor(@Inject(TransferService) private readonly transfers: TransferService) {}

  @Post()
  @HttpCode(202)
  @ActsAs(API_ACTIONS.create)
  @UseInterceptors(JsonBodyInterceptor)
  create(@CallerInfo() caller: Caller, @Body() body: unknown, @IdempotencyKeyHeader() idempotencyKey: string[] | undefined) {
    return this.transfers.create(caller, body, idempotencyKey);
  }

  @Get()
  @ActsAs(API_ACTIONS.list, { allProjects: API_ACTIONS.listAllProjects })
  list(@CallerInfo() caller: Caller, @Query() query: Record<string, unknown>) {
    return this.transfers.list(caller, query);
  }

  // Declared before ':transferId' so "detail" is never taken for an id.
  @Get('detail')
  @ActsAs(API_ACTIONS.list, { allProjects: API_ACTIONS.listAllProjects })
  listDetail(@CallerInfo() caller: Caller, @Query() query: Record<string, unknown>) {
    return this.transfers.listDetail(caller, query);
  }

  @Get(':transferId')
  @ActsAs(API_ACTIONS.get)
  show(@CallerInfo() caller: Caller, @Param('transferId') transferId: string) {
    return this.transfers.show(caller, transferId);
  }

  @Post(':transferId/accept')
  @HttpCode(202)
  @ActsAs(API_ACTIONS.accept)
  @UseInterceptors(JsonBodyInterceptor)
  accept(@CallerInfo() caller: Caller, @Param('transferId') transferId: string, @Body() body: unknown) {
    return this.transfers.accept(caller, transferId, body);
  }

  @Delete(':transferId')
  @HttpCode(202)
  @ActsAs(API_ACTIONS.delete)
  delete(@CallerInfo() caller: Caller, @Param('transferId') transferId: string) {
    return this.transfers.delete(caller, transferId);
  }

  /**
   * Cinder's admin-action form (`{"os-force_delete": {}}`, as for volumes,
   * snapshots and backups), on a transfer of any project: a route of its
   * own, so an administrator's reach into another project is never an
   * accident of a plain DELETE, and policy decides on it before any lookup.
   */
  @Post(':transferId/action')
  @HttpCode(202)
  @ActsAs(API_ACTIONS.forceDelete)
  @UseInterceptors(JsonBodyInterceptor)
  action(@CallerInfo() caller: Caller, @Param('transferId') transferId: string, @Body() body: unknown) {
    return this.transfers.forceDelete(caller, transferId, body);
  }
}
