/**
 * Who may do what, in one table: each API action and the roles allowed it.
 * Pure, so the gateway's PolicyGuard and the tests read the same rows.
 *
 * Roles are OpenStack's default ones (Keystone's reader, member, admin). In
 * Keystone they imply one another (admin implies member implies reader);
 * the rows spell every allowed role out instead, so each row reads on its
 * own and a token that carries only `admin` is not refused a tenant action.
 * Names are compared exactly: OpenStack's role names are lower case.
 */
import { API_ACTIONS, type ApiAction } from '../../contracts/src/events';

export const ROLES = ['reader', 'member', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that may read a project's resources; the inventory's tenant API applies the same two lists. */
export const TENANT_READ: readonly Role[] = ['reader', 'member', 'admin'];
/** Roles that may change a project's resources. */
export const TENANT_WRITE: readonly Role[] = ['member', 'admin'];
const ADMIN_ONLY: readonly Role[] = ['admin'];

export const POLICY: Readonly<Record<ApiAction, readonly Role[]>> = {
  [API_ACTIONS.list]: TENANT_READ,
  [API_ACTIONS.get]: TENANT_READ,
  [API_ACTIONS.create]: TENANT_WRITE,
  [API_ACTIONS.accept]: TENANT_WRITE,
  [API_ACTIONS.delete]: TENANT_WRITE,
  [API_ACTIONS.listAllProjects]: ADMIN_ONLY,
  [API_ACTIONS.forceDelete]: ADMIN_ONLY,
  [API_ACTIONS.listVolumes]: TENANT_READ,
  [API_ACTIONS.getVolume]: TENANT_READ,
};

/**
 * Who may query the event consumers' HTTP APIs (billing's ownership ledger,
 * the audit log): administrators, as for the gateway's reaches into other
 * projects (all_tenants, force-delete).
 *
 * Not `reader`: in these tokens every role is held in one project (the
 * token's), and `reader` is what a project's read-only users get to list
 * and show their own transfers. The consumers answer about every project
 * (which project owned which disk when; every project's calls, users and
 * failed guesses) and scope nothing to the caller's, so letting `reader` in
 * would let any tenant's read-only user read every other tenant's history.
 * The role an auditor wants (read-only, but across all projects: Keystone's
 * system-scoped reader) has no place in tokens that carry a project and no
 * system scope; it belongs here once an identity provider issues one.
 */
export const CONSUMER_QUERY_ROLES: readonly Role[] = ADMIN_ONLY;

/** Whether credentials holding `roles` hold at least one of `allowed`; names compared exactly. */
export function holdsOneOf(roles: readonly string[], allowed: readonly Role[]): boolean {
  return roles.some((role) => (allowed as readonly string[]).includes(role));
}

export type PolicyDecision = { allowed: true } | { allowed: false; allowedRoles: readonly Role[] };

/** Whether credentials holding `roles` may perform `action`: allowed when they hold any role of its row. */
export function authorize(roles: readonly string[], action: ApiAction): PolicyDecision {
  const allowedRoles = POLICY[action];
  // An action missing from the table (a cast, a stale build) is refused, never allowed.
  if (allowedRoles === undefined) return { allowed: false, allowedRoles: [] };
  return holdsOneOf(roles, allowedRoles) ? { allowed: true } : { allowed: false, allowedRoles };
}

/** The refusal as the caller reads it: which action, and which roles would allow it (never which roles were held). */
export function policyRefusalMessage(action: ApiAction, allowedRoles: readonly Role[]): string {
  const needs = allowedRoles.length === 0 ? 'no role allows it' : `it needs one of the roles ${allowedRoles.join(', ')}`;
  return `Policy forbids ${action} for these credentials: ${needs}.`;
}
