/**
 * Creates that carry an Idempotency-Key. The gateway derives the transfer id
 * and the auth key from (project, key), so a create retried after its answer
 * was lost reaches the same workflow and can be answered with the same key
 * without the key ever being stored. What remains to decide is whether a
 * retry is really the same create, and what a retry is told once the
 * transfer it names has ended: both decisions are here, shared by the
 * workflow and the gateway.
 */
import type { ErrorName } from './errors';
import type { DecisionError, TransferStatus } from './transfer';

/** What a create asks for, besides who asks (the project is part of the key's scope). */
export interface CreationFacts {
  volumeId: string;
  name: string | null;
}

/** A retry is the same create only if it names the same disk and the same (trimmed) name. */
export function sameCreation(original: CreationFacts, retry: CreationFacts): boolean {
  return original.volumeId === retry.volumeId && original.name === retry.name;
}

/** Where the transfer a retried create names stands: its status, and why it was refused if it was. */
export interface CreationStanding {
  status: TransferStatus;
  reason: ErrorName | null;
}

/**
 * What a retried create is answered instead of the created transfer, or null
 * when the transfer is still alive (validating, pending, or in the middle of
 * an accept, delete or expiry) and the original answer stands.
 *
 * - Refused at create: the same refusal. The key's one create was refused,
 *   and that is its outcome; trying again means a new key (and a new
 *   transfer id, so no transfer ever has two lifecycles).
 * - Accepted, deleted or expired: IdempotentTransferEnded. Repeating the
 *   original 202 would hand out a key to a transfer that no longer exists.
 * - `standing` null: the transfer ended without a known outcome (its
 *   workflow was terminated by an operator, say), which is treated as ended.
 */
export function retriedCreationRefusal(standing: CreationStanding | null): DecisionError | null {
  if (standing === null) return { name: 'IdempotentTransferEnded' };
  switch (standing.status) {
    case 'rejected':
      return { name: standing.reason ?? 'Internal' };
    case 'accepted':
    case 'deleted':
    case 'expired':
      return {
        name: 'IdempotentTransferEnded',
        details: {
          message: `The transfer created with this Idempotency-Key has ended (${standing.status}); create another with a new key.`,
        },
      };
    case 'validating':
    case 'pending':
    case 'accepting':
    case 'deleting':
    case 'expiring':
      return null;
  }
}
