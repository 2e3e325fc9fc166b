import { z } from 'zod';

/** -1 means unlimited, as in Cinder. */
const limit = z.number().int().min(-1);

export const updateQuotaBody = z.strictObject({
  quota_set: z
    .strictObject({ volumes: limit.optional(), gigabytes: limit.optional() })
    .refine((q) => q.volumes !== undefined || q.gigabytes !== undefined, 'name volumes, gigabytes or both'),
});
export type UpdateQuotaBody = z.output<typeof updateQuotaBody>;
