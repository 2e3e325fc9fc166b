/**
 * The request shapes of transfer-api.md, checked where they enter. Unknown
 * keys are refused at every level, as Cinder's JSON schemas do
 * (additionalProperties: false). Messages name the field, never echo a
 * value (an auth_key must not come back in an error), and name an unknown
 * key only when it is short and plain.
 */
import { z } from 'zod';
import { DomainError } from '../../../../libs/domain/src/errors';
import { isUuid } from '../../../../libs/domain/src/ids';

const codePoints = (s: string) => [...s].length;

/** A lone UTF-16 surrogate: JSON can carry one ("\ud800"), but no UTF-8 encoder downstream (Temporal, Kafka, SQLite) keeps it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const wellFormed = (s: string) => !LONE_SURROGATE.test(s);

export const MAX_NAME_CHARS = 255;
const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f';
/** What String.prototype.trim removes, less the control characters a name may not hold anyway. */
const SPACES = ' \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
/**
 * A transfer name: no control characters (names reach terminals through
 * client tables and the Temporal UI) and at least one character that is not
 * a space. Published as is in the OpenAPI document, so fuzzers and clients
 * generate what the gateway accepts.
 */
export const NAME_PATTERN = `^[^${CONTROL}]*[^${CONTROL}${SPACES}][^${CONTROL}]*$`;
const NAME = new RegExp(NAME_PATTERN);

/**
 * Cinder's boolean spellings (its JSON schema's boolean type and oslo's
 * bool_from_string), in any case: JSON true/false, or one of these strings.
 */
const TRUE_WORDS = new Set(['true', '1', 'on', 'yes', 'y', 't']);
const FALSE_WORDS = new Set(['false', '0', 'off', 'no', 'n', 'f']);
const cinderBoolean = z.union([
  z.boolean(),
  z
    .string()
    .refine((s) => TRUE_WORDS.has(s.toLowerCase()) || FALSE_WORDS.has(s.toLowerCase()), 'must be a boolean or one of true, false, 1, 0, on, off, yes, no, y, n, t, f')
    .transform((s) => TRUE_WORDS.has(s.toLowerCase())),
], { error: 'must be a boolean or one of true, false, 1, 0, on, off, yes, no, y, n, t, f' });

const transferFields = {
  volume_id: z.string().refine(isUuid, 'must be a UUID'),
    // Limits apply to the name as sent, as Cinder's schema checks it before stripping.
    // The length is checked first, so the pattern only ever runs on a short string.
    name: z
      .string()
      .superRefine((s, ctx) => {
        if (codePoints(s) > MAX_NAME_CHARS) ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_NAME_CHARS} characters` });
        else if (!NAME.test(s) || !wellFormed(s)) ctx.addIssue({ code: 'custom', message: 'must not be blank or hold control characters' });
      })
      .transform((s) => s.trim())
      .nullish(),
};

const createTransferBody = z.strictObject({ transfer: z.strictObject(transferFields) });
/** From microversion 3.55, on the volume-transfers route: no_snapshots too. */
const createTransferBodyV355 = z.strictObject({ transfer: z.strictObject({ ...transferFields, no_snapshots: cinderBoolean.optional() }) });

export const MAX_AUTH_KEY_CHARS = 255;

const acceptTransferBody = z.strictObject({
  accept: z.strictObject({
    auth_key: z
      .string()
      .refine((s) => codePoints(s) >= 1 && codePoints(s) <= MAX_AUTH_KEY_CHARS && wellFormed(s), `must be 1 to ${MAX_AUTH_KEY_CHARS} characters`),
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
  /** no_snapshots as asked (3.55 volume-transfers route), null when not sent or not allowed. */
  noSnapshots: boolean | null;
}

export interface AcceptTransferInput {
  authKey: string;
}

export interface ListPage {
  limit: number;
  offset: number;
}

export const MAX_LIST_LIMIT = 1000;
/** The largest offset JavaScript holds exactly; published in the OpenAPI document, which had left it open. */
export const MAX_LIST_OFFSET = Number.MAX_SAFE_INTEGER;

/** Keys worth quoting back; anything else (huge, odd characters) is only counted. */
const PLAIN_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'unrecognized_keys') return issue.message;
  const plain = issue.keys.filter((k) => PLAIN_KEY.test(k));
  const named = plain.length > 0 ? `: ${plain.slice(0, 5).join(', ')}` : '';
  return `unknown field${issue.keys.length === 1 ? '' : 's'}${named}`;
}

function invalidBody(error: z.ZodError): DomainError {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  return new DomainError('BadRequest', { message: `Invalid request body at ${where}: ${issue ? issueMessage(issue) : 'invalid'}.` });
}

/**
 * The create body. `no_snapshots` is a field only where Cinder has it (the
 * 3.55 volume-transfers route); elsewhere it is an unknown key (400), as
 * under Cinder's own schema for the older route.
 */
export function parseCreateTransfer(body: unknown, options: { noSnapshots?: boolean } = {}): CreateTransferInput {
  if (options.noSnapshots) {
    const parsed = createTransferBodyV355.safeParse(body);
    if (!parsed.success) throw invalidBody(parsed.error);
    const { volume_id, name, no_snapshots } = parsed.data.transfer;
    return { volumeId: volume_id.toLowerCase(), name: name ?? null, noSnapshots: no_snapshots ?? null };
  }
  const parsed = createTransferBody.safeParse(body);
  if (!parsed.success) throw invalidBody(parsed.error);
  const { volume_id, name } = parsed.data.transfer;
  return { volumeId: volume_id.toLowerCase(), name: name ?? null, noSnapshots: null };
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
    message: `Query parameter ${name} must be an integer from ${min} to ${max}.`,
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
    offset: integerParam(query, 'offset', 0, MAX_LIST_OFFSET, 0),
  };
}

/**
 * The header that makes a create idempotent. The name of the IETF HTTPAPI
 * working group's draft (draft-ietf-httpapi-idempotency-key-header), which
 * is what the payment and cloud APIs that take such a key mostly call it;
 * Cinder has none, so no OpenStack client sends it by accident.
 */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const MAX_IDEMPOTENCY_KEY_CHARS = 255;
/**
 * 1 to 255 printable ASCII characters, spaces only inside: HTTP strips a
 * header value's outer spaces, so a key that began or ended with one would
 * arrive as another key. Published in the OpenAPI document as is.
 */
export const IDEMPOTENCY_KEY_PATTERN = `^[\x21-\x7e](?:[\x20-\x7e]{0,${MAX_IDEMPOTENCY_KEY_CHARS - 2}}[\x21-\x7e])?$`;
const IDEMPOTENCY_KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);

/**
 * The create's Idempotency-Key, or null when none was sent. The header's
 * values as received, one per header line: a key sent twice is ambiguous
 * (which one names the create?), so refused rather than joined. The message
 * never repeats the value.
 */
export function parseIdempotencyKey(values: readonly string[] | undefined): string | null {
  if (values === undefined || values.length === 0) return null;
  if (values.length > 1) {
    throw new DomainError('BadRequest', { message: `Header ${IDEMPOTENCY_KEY_HEADER} must be sent at most once.` });
  }
  const key = values[0] ?? '';
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new DomainError('BadRequest', {
      message: `Header ${IDEMPOTENCY_KEY_HEADER} must be 1 to ${MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters, without leading or trailing spaces.`,
    });
  }
  return key;
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
