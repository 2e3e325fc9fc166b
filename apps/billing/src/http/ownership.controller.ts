import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { isoTime, queryError, timeRangeParams } from '../../../../libs/consumer/src/query-http';
import { OwnershipStore } from '../ledger/ownership.store';
import { type OwnershipIntervalView, presentInterval } from './ownership.presenter';

@Controller('v1')
export class OwnershipController {
  constructor(@Inject(OwnershipStore) private readonly store: OwnershipStore) {}

  /** The project's ownership intervals that overlap [from, to), whole (not clipped to the range). */
  @Get('projects/:projectId/ownership')
  async project(
    @Param('projectId') projectId: string,
    @Query('from') from: unknown,
    @Query('to') to: unknown,
  ): Promise<{ project_id: string; from: string | null; to: string | null; intervals: OwnershipIntervalView[] }> {
    const { fromMs, toMs } = timeRangeParams(from, to);
    return {
      project_id: projectId,
      from: fromMs === undefined ? null : isoTime(fromMs),
      to: toMs === undefined ? null : isoTime(toMs),
      intervals: (await this.store.project(projectId, { fromMs, toMs })).map(presentInterval),
    };
  }

  /** Every owner of the disk since the first event that named it, oldest first. */
  @Get('disks/:diskId/ownership')
  async disk(@Param('diskId') diskId: string): Promise<{ disk_id: string; intervals: OwnershipIntervalView[] }> {
    const intervals = await this.store.disk(diskId);
    if (intervals.length === 0) throw queryError('NotFound', 'No lifecycle event has named this disk.');
    return { disk_id: diskId, intervals: intervals.map(presentInterval) };
  }
}
