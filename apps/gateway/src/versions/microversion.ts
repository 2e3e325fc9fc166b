/**
 * Cinder's v3 microversions, as far as the gateway implements them: the
 * range it advertises, how a request names one, and the versions at which a
 * response changes. The one place those facts live; the discovery document,
 * the negotiation middleware, the transfer and volume views all read them
 * from here. Pure: no Nest, no HTTP objects.
 *
 * Negotiation follows Cinder's (cinder/api/openstack/wsgi.py and
 * api_version_request.py):
 *   - only /v3 negotiates; /v2 is a legacy endpoint (version 2.0) whose
 *     responses carry no version header;
 *   - no header: 3.0;
 *   - `OpenStack-API-Version: volume X.Y` (several services may be listed,
 *     comma-separated); `latest` is the maximum; a version that is not
 *     `major.minor` without leading zeros is a 400; one outside
 *     [MIN, MAX] is a 406;
 *   - a header that names no volume version is, in Cinder, a request for a
 *     method that does not exist in that version: 404. The legacy header
 *     `X-OpenStack-Volume-API-Version: X.Y`, which older clients send, is
 *     read when the standard one names no volume version.
 */

export interface Microversion {
  major: number;
  minor: number;
}

export const MIN_MICROVERSION: Microversion = { major: 3, minor: 0 };
/**
 * The highest v3 microversion implemented. Every microversion up to it
 * either changes nothing the gateway serves (transfers and volume reads) or
 * is listed in MICROVERSION_FEATURES; 3.70 (encrypted volumes may be
 * transferred) contradicts an EVS rule and is not offered.
 */
export const MAX_MICROVERSION: Microversion = { major: 3, minor: 59 };
/** What a /v2 request is served at: Cinder's legacy version, below every v3 feature. */
export const LEGACY_V2: Microversion = { major: 2, minor: 0 };

/** The microversions at which something the gateway serves changes, with what changes. */
export const MICROVERSION_FEATURES = {
  /** Volumes: `group_id` in the detailed view. */
  volumeGroupId: { major: 3, minor: 13 },
  /** Volumes: `service_uuid` and `shared_targets` in the detailed view. */
  volumeSharedTargets: { major: 3, minor: 48 },
  /** Transfers: the `/volume-transfers` routes and `no_snapshots` (create body, views). */
  transferNoSnapshots: { major: 3, minor: 55 },
  /** Transfers: `source_project_id`, `destination_project_id`, `accepted` in the views. */
  transferHistory: { major: 3, minor: 57 },
  /** Transfers: sort, marker, limit and offset on lists, with `transfers_links`. */
  transferPagination: { major: 3, minor: 59 },
} as const satisfies Record<string, Microversion>;
export type MicroversionFeature = keyof typeof MICROVERSION_FEATURES;

export const API_VERSION_HEADER = 'OpenStack-API-Version';
export const LEGACY_VOLUME_VERSION_HEADER = 'X-OpenStack-Volume-API-Version';
export const VOLUME_SERVICE = 'volume';

export function formatMicroversion(v: Microversion): string {
  return `${v.major}.${v.minor}`;
}

export function compareMicroversions(a: Microversion, b: Microversion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/** Whether a request served at `version` gets `feature` (never under /v2). */
export function supports(version: Microversion, feature: MicroversionFeature): boolean {
  const at = MICROVERSION_FEATURES[feature];
  return version.major === at.major && compareMicroversions(version, at) >= 0;
}

const VERSION = /^([1-9][0-9]{0,5}|0)\.([1-9][0-9]{0,5}|0)$/;

export type NegotiationRefusal =
  | { status: 400; reason: 'malformed'; message: string }
  | { status: 404; reason: 'no-volume-version'; message: string }
  | { status: 406; reason: 'not-acceptable'; message: string };

export type Negotiation = { ok: true; version: Microversion } | { ok: false; refusal: NegotiationRefusal };

/** The header values as received (each header line once; undefined when absent). */
export interface VersionHeaders {
  standard?: readonly string[];
  legacy?: readonly string[];
}

/** The volume entry of `OpenStack-API-Version` ("volume 3.59, compute 2.1"), or null when none names volume. */
function volumeEntry(values: readonly string[]): string | null {
  for (const item of values.join(',').split(',')) {
    const [service, version, ...rest] = item.trim().split(/\s+/);
    if (service?.toLowerCase() === VOLUME_SERVICE && rest.length === 0) return version ?? '';
  }
  return null;
}

function parseRequested(raw: string): Negotiation {
  const text = raw.trim();
  if (text.toLowerCase() === 'latest') return { ok: true, version: { ...MAX_MICROVERSION } };
  const m = VERSION.exec(text);
  if (!m) {
    // The value is not echoed: it is the client's text, and only its shape is wrong.
    return {
      ok: false,
      refusal: { status: 400, reason: 'malformed', message: 'API Version String is of invalid format. Must be of format MajorNum.MinorNum.' },
    };
  }
  const version = { major: Number(m[1]), minor: Number(m[2]) };
  if (compareMicroversions(version, MIN_MICROVERSION) < 0 || compareMicroversions(version, MAX_MICROVERSION) > 0) {
    return {
      ok: false,
      refusal: {
        status: 406,
        reason: 'not-acceptable',
        message: `Version ${formatMicroversion(version)} is not supported by the API. Minimum is ${formatMicroversion(MIN_MICROVERSION)} and maximum is ${formatMicroversion(MAX_MICROVERSION)}.`,
      },
    };
  }
  return { ok: true, version };
}

/** The microversion a /v3 request is served at, or why it is refused. */
export function negotiateMicroversion(headers: VersionHeaders): Negotiation {
  const standard = headers.standard?.length ? volumeEntry(headers.standard) : null;
  if (standard !== null) return parseRequested(standard);
  const legacy = headers.legacy?.length ? headers.legacy.join(',') : null;
  if (legacy !== null) return parseRequested(legacy);
  if (headers.standard?.length) {
    return {
      ok: false,
      refusal: { status: 404, reason: 'no-volume-version', message: `The ${API_VERSION_HEADER} header names no volume version.` },
    };
  }
  return { ok: true, version: { ...MIN_MICROVERSION } };
}

/** The response header value: "volume 3.59". */
export function versionHeaderValue(version: Microversion): string {
  return `${VOLUME_SERVICE} ${formatMicroversion(version)}`;
}

/**
 * Cinder's fault body for a refused negotiation: the fault name by status
 * (406 has none of its own in Cinder, hence computeFault) with the numeric
 * code and the message. python-cinderclient and openstacksdk read the
 * message of the body's first key.
 */
const FAULT_NAMES: Record<NegotiationRefusal['status'], string> = { 400: 'badRequest', 404: 'itemNotFound', 406: 'computeFault' };

export function negotiationFaultBody(refusal: NegotiationRefusal): Record<string, { code: number; message: string }> {
  return { [FAULT_NAMES[refusal.status]]: { code: refusal.status, message: refusal.message } };
}
