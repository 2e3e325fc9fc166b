/**
 * The request shapes of transfer-api.md, checked where they enter. Unknown
 * keys are refused at every level, as Cinder's JSON schemas do
 * (additionalProperties: false). Messages name the field, never echo a
 * value (an auth_key must not come back in an error).
 */
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src/errors';
import { isUuid } from '../../../../libs/domain/src/ids';

const codePoints = (s: string) => [...s].length;

const createTransferBody = z.strictObject({
  transfer: z.strictObject({
    volume_id: z.string().refine(isUuid, 'must be a UUID'),
    name: z
      .string()
      .trim()
      .refine((s) => codePoints(s) >= 1 && codePoints(s) <= 255, 'must be 1 to 255 characters after trimming')
      .nullish(),
  }),
});

const acceptTransferBody = z.strictObject({
  accept: z.strictObject({
    auth_key: z.string().refine((s) => codePoints(s) >= 1 && codePoints(s) <= 255, 'must be 1 to 255 characters'),
  }),
});

/**
 * Cinder's admin-action body. python-cinderclient sends the action's value
 * as null, others as {}; the transfer has no other action yet.
 */
const transferActionBody = z.strictObject({
  'os-force_delete': z.strictObject({}).nullable(),
});

export interface CreateTransferInput {
  /** Lower-cased: UUIDs compare case-insensitively, the inventory stores them lower-case. */
  volumeId: string;
  name: string | null;
}

export interface AcceptTransferInput {
  authKey: string;
}

export interface ListPage {
  limit: number;
  offset: number;
}

export const MAX_LIST_LIMIT = 1000;

function invalidBody(error: z.ZodError): DomainError {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  return new DomainError('BadRequest', { message: `Invalid request body at ${where}: ${issue?.message ?? 'invalid'}.` });
}

export function parseCreateTransfer(body: unknown): CreateTransferInput {
  const parsed = createTransferBody.safeParse(body);
  if (!parsed.success) throw invalidBody(parsed.error);
  const { volume_id, name } = parsed.data.transfer;
  return { volumeId: volume_id.toLowerCase(), name: name ?? null };
}

export function parseAcceptTransfer(body: unknown): AcceptTransferInput {
  const parsed = acceptTransferBody.safeParse(body);
  if (!parsed.success) throw invalidBody(parsed.error);
  return { authKey: parsed.data.accept.auth_key };
}

/** The one transfer action there is, os-force_delete; anything else is a 400. */
export function parseTransferAction(body: unknown): 'os-force_delete' {
  const parsed = transferActionBody.safeParse(body);
  if (!parsed.success) throw invalidBody(parsed.error);
  return 'os-force_delete';
}

function integerParam(query: Record<string, unknown>, name: string, min: number, max: number, fallback: number): number {
  const raw = query[name];
  if (raw === undefined) return fallback;
  const invalid = new DomainError('BadRequest', {
    message: `Query parameter ${name} must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}.`,
  });
  // A repeated parameter arrives as an array: ambiguous, so refused.
  if (typeof raw !== 'string' || !/^[0-9]{1,16}$/.test(raw)) throw invalid;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw invalid;
  return value;
}

/**
 * oslo's spellings of a boolean (python-cinderclient sends all_tenants=1,
 * openstacksdk all_tenants=True). A bare `?all_tenants` counts as yes:
 * Cinder looks only at whether the parameter is there.
 */
const YES = new Set(['', '1', 't', 'true', 'y', 'yes', 'on']);
const NO = new Set(['0', 'f', 'false', 'n', 'no', 'off']);

/**
 * Whether a list asks for every project's transfers (Cinder's admin
 * all_tenants): false when the parameter is absent or says no, null when its
 * value is no boolean at all (or the parameter is repeated).
 */
export function parseAllTenants(query: Record<string, unknown>): boolean | null {
  const raw = query.all_tenants;
  if (raw === undefined) return false;
  if (typeof raw !== 'string') return null;
  const word = raw.trim().toLowerCase();
  if (YES.has(word)) return true;
  return NO.has(word) ? false : null;
}

/**
 * limit 1..1000 (default 1000), offset >= 0 (default 0). Every other query
 * parameter but all_tenants (parseAllTenants) is ignored: Cinder answers
 * the base volume-transfer API without error for filters it does not apply,
 * and clients such as openstacksdk send extra ones (marker/sort belong to
 * microversion 3.59, a later step).
 */
export function parseListPage(query: Record<string, unknown>): ListPage {
  return {
    limit: integerParam(query, 'limit', 1, MAX_LIST_LIMIT, MAX_LIST_LIMIT),
    offset: integerParam(query, 'offset', 0, Number.MAX_SAFE_INTEGER, 0),
  };
}

/**
 * A transfer id from the path, lower-cased, or TransferNotFound. Not a 400:
 * Cinder looks any id up and answers 404 when nothing has it, and a
 * malformed id certainly names no transfer.
 */
export function parseTransferId(raw: string | undefined): string {
  if (!isUuid(raw)) throw new DomainError('TransferNotFound');
  return raw.toLowerCase();
}
