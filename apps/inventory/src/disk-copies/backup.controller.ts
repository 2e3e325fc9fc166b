import { Body, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import type { BackupView } from '../../../../libs/inventory-client/src/inventory.wire';
import { ProjectId, TenantController } from '../http/inventory-api.decorators';
import { idParam } from '../http/inventory.schemas';
import { ZodBodyPipe } from '../http/zod.pipe';
import { createBackupBody, type CreateBackupBody } from './disk-copy.schemas';
import { BackupService } from './disk-copy.service';

const backupId = idParam('backup_id');

@TenantController('backups')
export class BackupController {
  constructor(@Inject(BackupService) private readonly backups: BackupService) {}

  @Post()
  @HttpCode(202)
  async create(
    @ProjectId() projectId: string,
    @Body(new ZodBodyPipe(createBackupBody)) body: CreateBackupBody,
  ): Promise<{ backup: BackupView }> {
    return { backup: await this.backups.create(projectId, body.backup) };
  }

  @Get(':backup_id')
  async show(@ProjectId() projectId: string, @Param('backup_id', backupId) id: string): Promise<{ backup: BackupView }> {
    return { backup: await this.backups.show(projectId, id) };
  }

  @Delete(':backup_id')
  @HttpCode(202)
  delete(@ProjectId() projectId: string, @Param('backup_id', backupId) id: string): Promise<void> {
    return this.backups.delete(projectId, id);
  }
}
