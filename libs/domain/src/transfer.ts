/**
 * The transfer as a pure decider: decide(state, command) -> events,
 * evolve(state, event) -> state. Time comes in on every command, so the same
 * inputs always give the same outputs (the workflow replays them).
 */
import type { DiskFacts } from './disk';
import type { ErrorDetails, ErrorName } from './errors';

export type TransferStatus =
  | 'validating'
  | 'pending'
  | 'accepting'
  | 'deleting'
  | 'expiring'
  | 'rejected'
  | 'accepted'
  | 'deleted'
  | 'expired';

export const TERMINAL_STATUSES: readonly TransferStatus[] = ['rejected', 'accepted', 'deleted', 'expired'];

export function isTerminal(status: TransferStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Limits that operators tune; passed into the workflow as arguments. */
export interface TransferPolicy {
  timeToLiveMs: number;
  maxFailedAccepts: number;
  /** First lock-out; each further lock-out doubles it, up to lockoutMaxMs. */
  lockoutBaseMs: number;
  lockoutMaxMs: number;
}

export const DEFAULT_TRANSFER_POLICY: TransferPolicy = {
  timeToLiveMs: 72 * 60 * 60 * 1000,
  maxFailedAccepts: 5,
  lockoutBaseMs: 5 * 60 * 1000,
  lockoutMaxMs: 24 * 60 * 60 * 1000,
};

export interface Actor {
  projectId: string;
  userId: string;
  requestId: string;
}

/** What starts a transfer. Holds only the salted hash of the auth key, never the key. */
export interface TransferRequest {
  transferId: string;
  volumeId: string;
  name: string | null;
  owner: Actor;
  /** Epoch milliseconds; the gateway's clock at the create call. */
  createdAtMs: number;
  authKeyHash: string;
  policy: TransferPolicy;
}

export interface TransferState {
  request: TransferRequest;
  status: TransferStatus;
  expiresAtMs: number;
  disk: DiskFacts | null;
  recipient: Actor | null;
  /** Wrong keys since the last lock-out. */
  failedAccepts: number;
  totalFailedAccepts: number;
  lockouts: number;
  lockedUntilMs: number | null;
  deletedBy: Actor | null;
  /** The deletion is an administrator's force-delete, which may have cut an accept short. */
  deleteForced: boolean;
  rejection: ErrorName | null;
  endedAtMs: number | null;
}

export type TransferCommand =
  | { kind: 'RecordDiskLocked'; disk: DiskFacts; now: number }
  | { kind: 'RecordDiskLockRefused'; reason: ErrorName; now: number }
  | { kind: 'Accept'; actor: Actor; authKeyHash: string; now: number }
  | { kind: 'RecordDiskReassigned'; disk: DiskFacts; now: number }
  | { kind: 'RecordDiskReassignRefused'; reason: ErrorName; now: number }
  | { kind: 'Delete'; actor: Actor; now: number }
  | { kind: 'ForceDelete'; actor: Actor; now: number }
  | { kind: 'Expire'; now: number }
  /**
   * What releasing the lock found: `released` when this transfer still held
   * the disk; otherwise `disk` is where the disk is now (null: no such disk).
   */
  | { kind: 'RecordDiskReleased'; now: number; released: boolean; disk: DiskFacts | null };

export type TransferEvent =
  | { type: 'TransferCreated'; at: number; disk: DiskFacts }
  | { type: 'TransferCreateRejected'; at: number; reason: ErrorName }
  | { type: 'AcceptStarted'; at: number; recipient: Actor }
  | { type: 'AcceptAborted'; at: number; reason: ErrorName }
  | { type: 'TransferAccepted'; at: number; recipient: Actor; disk: DiskFacts }
  | { type: 'AcceptAttemptFailed'; at: number; actor: Actor; reason: 'InvalidAuthKey'; attempt: number }
  | { type: 'TransferLockedOut'; at: number; until: number; lockouts: number }
  | { type: 'DeleteStarted'; at: number; actor: Actor; forced: boolean }
  | { type: 'TransferDeleted'; at: number; actor: Actor; forced: boolean }
  | { type: 'ExpiryStarted'; at: number }
  | { type: 'TransferExpired'; at: number };

export type TransferEventType = TransferEvent['type'];

/** Events that leave the workflow (Kafka); the rest are internal steps. */
export const PUBLISHED_EVENT_TYPES = [
  'TransferCreated',
  'TransferCreateRejected',
  'TransferAccepted',
  'AcceptAttemptFailed',
  'TransferLockedOut',
  'TransferDeleted',
  'TransferExpired',
] as const satisfies readonly TransferEventType[];
export type PublishedTransferEvent = Extract<TransferEvent, { type: (typeof PUBLISHED_EVENT_TYPES)[number] }>;

export function isPublished(event: TransferEvent): event is PublishedTransferEvent {
  return (PUBLISHED_EVENT_TYPES as readonly string[]).includes(event.type);
}

export interface DecisionError {
  name: ErrorName;
  details?: ErrorDetails;
}

/** Events to apply, and the error the caller is told, if any (both may be present). */
export interface Decision {
  events: TransferEvent[];
  error?: DecisionError;
}

export function initialState(request: TransferRequest): TransferState {
  return {
    request,
    status: 'validating',
    expiresAtMs: request.createdAtMs + request.policy.timeToLiveMs,
    disk: null,
    recipient: null,
    failedAccepts: 0,
    totalFailedAccepts: 0,
    lockouts: 0,
    lockedUntilMs: null,
    deletedBy: null,
    deleteForced: false,
    rejection: null,
    endedAtMs: null,
  };
}

const ok = (...events: TransferEvent[]): Decision => ({ events });
const refuse = (name: ErrorName, details?: ErrorDetails): Decision => ({ events: [], error: { name, details } });
/** A command that arrives in a state where it has no meaning changes nothing. */
const ignore = (): Decision => ({ events: [] });

/**
 * Compares two hex digests in time that depends only on their lengths, so a
 * caller cannot learn a prefix of the right hash from response times.
 */
export function digestsEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  }
  return diff === 0;
}

function lockoutDurationMs(policy: TransferPolicy, previousLockouts: number): number {
  return Math.min(policy.lockoutBaseMs * 2 ** previousLockouts, policy.lockoutMaxMs);
}

function hasLapsed(state: TransferState, now: number): boolean {
  return now >= state.expiresAtMs;
}

function decideAccept(state: TransferState, cmd: Extract<TransferCommand, { kind: 'Accept' }>): Decision {
  if (state.status === 'accepting') return refuse('TransferBusy');
  if (state.status !== 'pending' || hasLapsed(state, cmd.now)) return refuse('TransferNotFound');
  if (cmd.actor.projectId === state.request.owner.projectId) return refuse('AcceptOwnTransfer');
  if (state.lockedUntilMs !== null && cmd.now < state.lockedUntilMs) {
    return refuse('TooManyFailedAttempts', { retryAfterSeconds: Math.ceil((state.lockedUntilMs - cmd.now) / 1000) });
  }
  if (!digestsEqual(cmd.authKeyHash, state.request.authKeyHash)) {
    const attempt = state.totalFailedAccepts + 1;
    const events: TransferEvent[] = [
      { type: 'AcceptAttemptFailed', at: cmd.now, actor: cmd.actor, reason: 'InvalidAuthKey', attempt },
    ];
    if (state.failedAccepts + 1 >= state.request.policy.maxFailedAccepts) {
      const until = cmd.now + lockoutDurationMs(state.request.policy, state.lockouts);
      events.push({ type: 'TransferLockedOut', at: cmd.now, until, lockouts: state.lockouts + 1 });
    }
    return { events, error: { name: 'InvalidAuthKey' } };
  }
  return ok({ type: 'AcceptStarted', at: cmd.now, recipient: cmd.actor });
}

function decideDelete(state: TransferState, cmd: Extract<TransferCommand, { kind: 'Delete' }>): Decision {
  if (cmd.actor.projectId !== state.request.owner.projectId) return refuse('TransferNotFound');
  if (state.status === 'accepting') return refuse('TransferBusy');
  if (state.status !== 'pending' || hasLapsed(state, cmd.now)) return refuse('TransferNotFound');
  return ok({ type: 'DeleteStarted', at: cmd.now, actor: cmd.actor, forced: false });
}

/**
 * An administrator's delete of any project's transfer, for the ones nobody
 * else can end: a pending transfer whose owner is gone, or one whose accept
 * is stuck moving the disk (the inventory keeps failing the reassign). The
 * accept is then abandoned; releasing the lock settles which happened, so
 * a disk that had in fact moved is reported as accepted, never as deleted.
 * A deletion or expiry already under way is left to finish.
 */
function decideForceDelete(state: TransferState, cmd: Extract<TransferCommand, { kind: 'ForceDelete' }>): Decision {
  switch (state.status) {
    case 'pending':
      // Past its expiry, the expiry is already giving the disk back.
      if (hasLapsed(state, cmd.now)) return refuse('TransferNotFound');
      return ok({ type: 'DeleteStarted', at: cmd.now, actor: cmd.actor, forced: true });
    case 'accepting':
      return ok({ type: 'DeleteStarted', at: cmd.now, actor: cmd.actor, forced: true });
    case 'deleting':
    case 'expiring':
      return refuse('TransferBusy');
    case 'accepted':
      return refuse('TransferAlreadyAccepted');
    case 'validating':
    case 'rejected':
    case 'deleted':
    case 'expired':
      return refuse('TransferNotFound');
  }
}

/** Whether an abandoned accept had moved the disk to its recipient before the lock was released. */
function movedToRecipient(state: TransferState, cmd: Extract<TransferCommand, { kind: 'RecordDiskReleased' }>): boolean {
  return (
    !cmd.released &&
    state.recipient !== null &&
    cmd.disk !== null &&
    cmd.disk.projectId === state.recipient.projectId &&
    cmd.disk.transferId === null
  );
}

export function decide(state: TransferState, cmd: TransferCommand): Decision {
  switch (cmd.kind) {
    case 'RecordDiskLocked':
      return state.status === 'validating' ? ok({ type: 'TransferCreated', at: cmd.now, disk: cmd.disk }) : ignore();
    case 'RecordDiskLockRefused':
      return state.status === 'validating'
        ? ok({ type: 'TransferCreateRejected', at: cmd.now, reason: cmd.reason })
        : ignore();
    case 'Accept':
      return decideAccept(state, cmd);
    case 'RecordDiskReassigned':
      // Also after a force-delete cut the accept short: the disk did move, and that is the outcome.
      return (state.status === 'accepting' || state.status === 'deleting') && state.recipient
        ? ok({ type: 'TransferAccepted', at: cmd.now, recipient: state.recipient, disk: cmd.disk })
        : ignore();
    case 'RecordDiskReassignRefused':
      return state.status === 'accepting' ? ok({ type: 'AcceptAborted', at: cmd.now, reason: cmd.reason }) : ignore();
    case 'Delete':
      return decideDelete(state, cmd);
    case 'ForceDelete':
      return decideForceDelete(state, cmd);
    case 'Expire':
      return state.status === 'pending' && hasLapsed(state, cmd.now) ? ok({ type: 'ExpiryStarted', at: cmd.now }) : ignore();
    case 'RecordDiskReleased':
      if (state.status === 'deleting' && movedToRecipient(state, cmd) && state.recipient && cmd.disk) {
        return ok({ type: 'TransferAccepted', at: cmd.now, recipient: state.recipient, disk: cmd.disk });
      }
      if (state.status === 'deleting' && state.deletedBy) {
        return ok({ type: 'TransferDeleted', at: cmd.now, actor: state.deletedBy, forced: state.deleteForced });
      }
      if (state.status === 'expiring') return ok({ type: 'TransferExpired', at: cmd.now });
      return ignore();
  }
}

export function evolve(state: TransferState, event: TransferEvent): TransferState {
  switch (event.type) {
    case 'TransferCreated':
      return { ...state, status: 'pending', disk: event.disk };
    case 'TransferCreateRejected':
      return { ...state, status: 'rejected', rejection: event.reason, endedAtMs: event.at };
    case 'AcceptStarted':
      return { ...state, status: 'accepting', recipient: event.recipient };
    case 'AcceptAborted':
      return { ...state, status: 'pending', recipient: null };
    case 'TransferAccepted':
      return { ...state, status: 'accepted', disk: event.disk, endedAtMs: event.at };
    case 'AcceptAttemptFailed':
      return { ...state, failedAccepts: state.failedAccepts + 1, totalFailedAccepts: event.attempt };
    case 'TransferLockedOut':
      return { ...state, failedAccepts: 0, lockouts: event.lockouts, lockedUntilMs: event.until };
    case 'DeleteStarted':
      // The recipient of an abandoned accept is kept: releasing the lock may find the disk already theirs.
      return { ...state, status: 'deleting', deletedBy: event.actor, deleteForced: event.forced };
    case 'TransferDeleted':
      return { ...state, status: 'deleted', endedAtMs: event.at };
    case 'ExpiryStarted':
      return { ...state, status: 'expiring' };
    case 'TransferExpired':
      return { ...state, status: 'expired', endedAtMs: event.at };
  }
}

/** Applies a decision's events in order. */
export function evolveAll(state: TransferState, events: readonly TransferEvent[]): TransferState {
  return events.reduce(evolve, state);
}
