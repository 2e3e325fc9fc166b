import { z } from 'zod';
import { BILLING_MODES, STORAGE_KINDS } from '../../../../libs/domain/src/disk';
import { CREATABLE_STATUSES } from '../../../../libs/inventory-client/src/inventory.wire';
import { nameSchema, uuidSchema } from '../http/inventory.schemas';

/** Largest EVS data disk, in GB. */
const MAX_SIZE_GB = 32768;
const sizeGb = z.number().int().min(1).max(MAX_SIZE_GB);

export const createVolumeBody = z.strictObject({
  volume: z.strictObject({
    size: sizeGb,
    id: uuidSchema.optional(),
    name: nameSchema.optional(),
    volume_type: z.string().min(1).max(64).optional(),
    bootable: z.boolean().optional(),
    encrypted: z.boolean().optional(),
    billing_mode: z.enum(BILLING_MODES).optional(),
    frozen: z.boolean().optional(),
    storage_kind: z.enum(STORAGE_KINDS).optional(),
    backup_policy_id: uuidSchema.nullable().optional(),
    replication_pair_id: uuidSchema.nullable().optional(),
    status: z.enum(CREATABLE_STATUSES).optional(),
  }),
});
export type CreateVolumeBody = z.output<typeof createVolumeBody>;

/** One schema per action; a request names exactly one of them. */
const ACTIONS = {
  // mountpoint and mode are what python-cinderclient sends; accepted, not used.
  'os-attach': z.strictObject({
    instance_uuid: uuidSchema,
    mountpoint: z.string().max(255).optional(),
    mode: z.enum(['rw', 'ro']).optional(),
  }),
  'os-detach': z.strictObject({ attachment_id: uuidSchema.optional() }),
  'os-extend': z.strictObject({ new_size: sizeGb }),
  'os-set-backup-policy': z.strictObject({ policy_id: uuidSchema.nullable() }),
  'os-set-encryption': z.strictObject({ encrypted: z.boolean() }),
  'os-change-billing': z.strictObject({ billing_mode: z.enum(BILLING_MODES) }),
  'os-freeze': z.strictObject({ frozen: z.boolean() }),
} as const;

type Actions = typeof ACTIONS;
export type VolumeActionName = keyof Actions;
export type ParsedVolumeAction = {
  [K in VolumeActionName]: { name: K; args: z.output<Actions[K]> };
}[VolumeActionName];

const ACTION_NAMES = Object.keys(ACTIONS) as VolumeActionName[];

function isActionName(key: string): key is VolumeActionName {
  return Object.hasOwn(ACTIONS, key);
}

export const volumeActionBody = z.record(z.string(), z.unknown()).transform((body, ctx): ParsedVolumeAction => {
  const keys = Object.keys(body);
  const name = keys[0];
  if (keys.length !== 1 || name === undefined || !isActionName(name)) {
    ctx.addIssue({ code: 'custom', message: `the body must hold exactly one of ${ACTION_NAMES.join(', ')}` });
    return z.NEVER;
  }
  const parsed = ACTIONS[name].safeParse(body[name]);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: 'custom', path: [name, ...issue.path], message: issue.message });
    }
    return z.NEVER;
  }
  return { name, args: parsed.data } as ParsedVolumeAction;
});
