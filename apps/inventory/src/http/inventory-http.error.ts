import { TRANSFER_RULES } from '../../../../libs/domain/src/disk';
import { ERROR_CATALOGUE, type ErrorName } from '../../../../libs/domain/src/errors';
import {
  TRANSFER_NOT_HOLDING_DISK,
  type InventoryErrorBody,
  type InventoryErrorName,
} from '../../../../libs/inventory-client/src/inventory.wire';
import type { Refusal } from '../store/store.types';

/** The one name outside the catalogue; internal API only. */
const TRANSFER_NOT_HOLDING_DISK_ENTRY = {
  status: 409,
  code: 'EVS.5409',
  message: 'The transfer does not hold this disk.',
} as const;

const CONSTRAINT_ERRORS: ReadonlySet<InventoryErrorName> = new Set<ErrorName>(TRANSFER_RULES.map((r) => r.error));

function entryOf(name: InventoryErrorName): { status: number; code: string; message: string } {
  return name === TRANSFER_NOT_HOLDING_DISK ? TRANSFER_NOT_HOLDING_DISK_ENTRY : ERROR_CATALOGUE[name];
}

/** An error the inventory answers on purpose; the exception filter renders it. */
export class InventoryHttpError extends Error {
  constructor(
    readonly errorName: InventoryErrorName,
    readonly status: number,
    message?: string,
  ) {
    super(message ?? entryOf(errorName).message);
    this.name = 'InventoryHttpError';
  }

  toBody(): InventoryErrorBody {
    return { error: { name: this.errorName, code: entryOf(this.errorName).code, message: this.message } };
  }
}

export function badRequest(message: string): InventoryHttpError {
  return new InventoryHttpError('BadRequest', ERROR_CATALOGUE.BadRequest.status, message);
}

export function unauthenticated(message: string): InventoryHttpError {
  return new InventoryHttpError('Unauthenticated', ERROR_CATALOGUE.Unauthenticated.status, message);
}

export function forbidden(message: string): InventoryHttpError {
  return new InventoryHttpError('Forbidden', ERROR_CATALOGUE.Forbidden.status, message);
}

/** Tenant API: each refusal gets its catalogue status. */
export function tenantHttpError(refusal: Refusal): InventoryHttpError {
  return new InventoryHttpError(refusal.name, entryOf(refusal.name).status, refusal.message);
}

/**
 * Internal API: every broken constraint is 422 (the body's name says which),
 * so the worker can tell "this disk may not be transferred" from a malformed
 * call (400) at a glance; the gateway maps names, not these statuses.
 */
export function internalHttpError(refusal: Refusal): InventoryHttpError {
  const status = CONSTRAINT_ERRORS.has(refusal.name) ? 422 : entryOf(refusal.name).status;
  return new InventoryHttpError(refusal.name, status, refusal.message);
}

/** Fixed errors for the HTTP statuses the framework itself produces. */
export function errorForStatus(status: number, message?: string): InventoryHttpError {
  if (status === 401) return new InventoryHttpError('Unauthenticated', 401, message);
  if (status === 403) return new InventoryHttpError('Forbidden', 403, message);
  if (status === 404) return new InventoryHttpError('NotFound', 404, message);
  if (status >= 400 && status < 500) return badRequest(message ?? ERROR_CATALOGUE.BadRequest.message);
  return new InventoryHttpError('Internal', 500);
}
