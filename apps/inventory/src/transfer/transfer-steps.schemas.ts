import { z } from 'zod';
import { projectIdSchema, uuidSchema } from '../http/inventory.schemas';

export const transferLockBody = z.strictObject({ project_id: projectIdSchema, transfer_id: uuidSchema });
export type TransferLockBody = z.output<typeof transferLockBody>;

export const transferLockReleaseBody = z.strictObject({ transfer_id: uuidSchema });
export type TransferLockReleaseBody = z.output<typeof transferLockReleaseBody>;

export const reassignBody = z.strictObject({ transfer_id: uuidSchema, to_project_id: projectIdSchema });
export type ReassignBody = z.output<typeof reassignBody>;

/** Keyset paging: `marker` is the last disk id of the previous page. Other query keys are ignored. */
export const transferLocksQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
  marker: uuidSchema.optional(),
});
export type TransferLocksQuery = z.output<typeof transferLocksQuery>;
