const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids of disks and transfers are UUIDs; anything else never reaches Temporal or a database. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** Project ids are Keystone-style: 1 to 64 of letters, digits, '-' and '_'. */
const PROJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;
export function isProjectId(value: unknown): value is string {
  return typeof value === 'string' && PROJECT_ID.test(value);
}

/**
 * Timestamps in Cinder's wire format: UTC, microseconds, no zone suffix
 * (2026-11-28T09:29:46.743632). Clients parse exactly this.
 */
export function toCinderTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('Z', '000');
}

export const CINDER_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;

/**
 * Epoch milliseconds of a Cinder timestamp, or null if it is not one. The
 * text carries no zone, and it is UTC by contract: never read it as local
 * time. Microseconds beyond the millisecond are dropped (ours are always 0).
 */
export function fromCinderTimestamp(text: string): number | null {
  if (!CINDER_TIMESTAMP.test(text)) return null;
  const ms = Date.parse(`${text.slice(0, 23)}Z`);
  return Number.isNaN(ms) ? null : ms;
}
