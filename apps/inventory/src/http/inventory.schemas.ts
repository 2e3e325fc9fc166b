import { z } from 'zod';
import { isProjectId, isUuid } from '../../../../libs/domain/src/ids';
import { ZodPipe } from './zod.pipe';

/** UUIDs compare lower-case, so "ABC..." and "abc..." name the same disk. */
export const uuidSchema = z
  .string()
  .refine(isUuid, 'must be a UUID')
  .transform((s) => s.toLowerCase());

export const projectIdSchema = z.string().refine(isProjectId, 'must be 1 to 64 letters, digits, "-" or "_"');

export const nameSchema = z.string().max(255).nullable();

/** Cinder's limit/offset paging; other query keys are ignored, as Cinder ignores unknown filters. */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
  offset: z.coerce.number().int().min(0).default(0),
});
export type PageQuery = z.output<typeof pageQuerySchema>;

/** Path parameter pipes: `@Param('volume_id', idParam('volume_id'))`. */
export const idParam = (label: string) => new ZodPipe(uuidSchema, label);
export const projectIdParam = (label: string) => new ZodPipe(projectIdSchema, label);
