import { z } from 'zod';
import { nameSchema, uuidSchema } from '../http/inventory.schemas';

const diskCopyFields = { volume_id: uuidSchema, name: nameSchema.optional() };

export const createSnapshotBody = z.strictObject({ snapshot: z.strictObject(diskCopyFields) });
export const createBackupBody = z.strictObject({ backup: z.strictObject(diskCopyFields) });
export type CreateSnapshotBody = z.output<typeof createSnapshotBody>;
export type CreateBackupBody = z.output<typeof createBackupBody>;
export type DiskCopyAttrs = CreateSnapshotBody['snapshot'];
