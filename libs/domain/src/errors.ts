/**
 * The closed catalogue of errors a caller can see. Every layer (inventory,
 * workflow, gateway) refers to these names; the gateway maps each to exactly
 * one HTTP status and public code here, so the table in docs/api.md is this
 * object rendered.
 */
export const ERROR_CATALOGUE = {
  BadRequest: { status: 400, code: 'EVS.5400', message: 'The request is malformed or a field is invalid.' },
  Unauthenticated: { status: 401, code: 'EVS.5401', message: 'Credentials are missing or invalid.' },
  Forbidden: { status: 403, code: 'EVS.5403', message: 'The request is not allowed for these credentials.' },
  PolicyForbidden: {
    status: 403,
    code: 'EVS.5403',
    message: 'Policy forbids this action for the roles of these credentials.',
  },
  NotFound: { status: 404, code: 'EVS.5404', message: 'The resource could not be found.' },
  TransferNotFound: { status: 404, code: 'EVS.5404', message: 'Transfer not found.' },
  DiskNotFound: { status: 404, code: 'EVS.5404', message: 'Disk not found.' },
  MethodNotAllowed: { status: 405, code: 'EVS.5405', message: 'The method is not allowed on this resource.' },
  QuotaExceeded: {
    status: 413,
    code: 'EVS.5413',
    message: "The recipient project's quota (disk count or gigabytes) would be exceeded.",
  },
  InvalidAuthKey: { status: 400, code: 'EVS.5440', message: 'Invalid auth key for the transfer.' },
  AcceptOwnTransfer: {
    status: 400,
    code: 'EVS.5441',
    message: 'A transfer cannot be accepted by the project that owns the disk.',
  },
  DiskStatusNotAvailable: {
    status: 400,
    code: 'EVS.5451',
    message: "Rule 'status': the disk status must be 'available' (not attached, creating, in error or awaiting transfer).",
  },
  DiskIsSystemDisk: { status: 400, code: 'EVS.5452', message: "Rule 'data disk only': system (boot) disks cannot be transferred." },
  DiskEncrypted: { status: 400, code: 'EVS.5453', message: "Rule 'encryption': encrypted disks cannot be transferred." },
  DiskHasSnapshots: {
    status: 400,
    code: 'EVS.5454',
    message: "Rule 'snapshots': disks with snapshots cannot be transferred; EVS never moves snapshots, so no_snapshots does not lift this rule.",
  },
  DiskHasBackups: { status: 400, code: 'EVS.5455', message: "Rule 'backups': disks with backups cannot be transferred." },
  DiskHasBackupPolicy: {
    status: 400,
    code: 'EVS.5456',
    message: "Rule 'backup policy': disks associated with a backup policy cannot be transferred.",
  },
  DiskInReplicationPair: {
    status: 400,
    code: 'EVS.5457',
    message: "Rule 'replication': disks in a replication pair cannot be transferred.",
  },
  DiskPrepaid: {
    status: 400,
    code: 'EVS.5458',
    message: "Rule 'billing': disks billed yearly/monthly (prepaid) cannot be transferred.",
  },
  DiskFrozen: { status: 400, code: 'EVS.5459', message: "Rule 'frozen': frozen disks cannot be transferred." },
  DiskOnDedicatedStorage: {
    status: 400,
    code: 'EVS.5460',
    message: "Rule 'dedicated storage': disks on DSS or DESS dedicated storage cannot be transferred.",
  },
  DiskAlreadyInTransfer: { status: 409, code: 'EVS.5409', message: 'The disk is already in a pending transfer.' },
  TransferBusy: {
    status: 409,
    code: 'EVS.5410',
    message: 'The transfer is being accepted or deleted by another request.',
  },
  TransferAlreadyAccepted: {
    status: 409,
    code: 'EVS.5412',
    message: 'The transfer was accepted: the disk already belongs to the recipient, so the transfer was not deleted.',
  },
  IdempotentTransferEnded: {
    status: 409,
    code: 'EVS.5414',
    message: 'The transfer created with this Idempotency-Key has ended; create another with a new key.',
  },
  IdempotencyKeyReused: {
    status: 422,
    code: 'EVS.5422',
    message: 'This Idempotency-Key was used for a create with another body (disk or name); use a new key for another transfer.',
  },
  DiskBusy: {
    status: 409,
    code: 'EVS.5411',
    message: 'The disk is awaiting transfer; this operation is refused until the transfer ends.',
  },
  TooManyFailedAttempts: {
    status: 429,
    code: 'EVS.5429',
    message: 'Too many failed accept attempts on this transfer; retry later.',
  },
  CallerRateLimited: {
    status: 429,
    code: 'EVS.5430',
    message: 'Too many failed accept attempts from this project; retry later.',
  },
  Internal: { status: 500, code: 'EVS.5500', message: 'Internal error.' },
  DependencyUnavailable: {
    status: 503,
    code: 'EVS.5503',
    message: 'A dependency is unavailable; nothing was changed. Retry later.',
  },
} as const satisfies Record<string, { status: number; code: string; message: string }>;

export type ErrorName = keyof typeof ERROR_CATALOGUE;

export function isErrorName(value: unknown): value is ErrorName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, value);
}

/** Extra facts some errors carry to the caller. */
export interface ErrorDetails {
  /** Seconds until a locked-out transfer, or a rate-limited caller, may try again (429). */
  retryAfterSeconds?: number;
  /** Overrides the catalogue message where a more precise one helps. */
  message?: string;
}

/**
 * A domain error is plain data so it can cross the Temporal boundary as an
 * ApplicationFailure (type = name, details = [details]) and be rebuilt exactly.
 */
export class DomainError extends Error {
  constructor(
    readonly errorName: ErrorName,
    readonly details: ErrorDetails = {},
  ) {
    super(details.message ?? ERROR_CATALOGUE[errorName].message);
    this.name = 'DomainError';
  }
}
