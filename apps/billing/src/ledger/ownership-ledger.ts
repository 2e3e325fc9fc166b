/**
 * The ownership ledger's pure core: which project owned a disk when, as
 * half-open intervals [from, to), built from what the lifecycle topic says
 * about the disk's transfers.
 *
 * The intervals are a function of the SET of facts, never of the order they
 * arrived in: the store keeps every fact (one per event id) and rebuilds a
 * disk's intervals from all of them, so duplicates, redelivery after a
 * crash, out-of-order delivery and a replay from the beginning all give the
 * same answer.
 *
 * Why transfers are ordered by their creation, not facts by their clock:
 * a disk has at most one transfer in flight, and the next can only be
 * created once the last has ended, so transfers of one disk follow each
 * other. Their events need not (each transfer publishes on its own, and a
 * recipient may start the next transfer the moment the disk is theirs, a
 * hair before the previous transfer's accepted event is stamped), so the
 * chain of owners is read transfer by transfer.
 *
 * Where history starts: at the first event that names the disk, normally a
 * transfer's `created` (its created_at). The ledger knows nothing of a
 * disk's life before its first transfer; what a project owned and never
 * transferred is the inventory's to say.
 */

export type OwnershipFact =
  | {
      eventId: string;
      kind: 'created' | 'deleted' | 'expired';
      diskId: string;
      transferId: string;
      /** The disk's owner when the transfer was created, and still (a deleted or expired transfer moves nothing). */
      sourceProjectId: string;
      atMs: number;
    }
  | {
      eventId: string;
      kind: 'accepted';
      diskId: string;
      transferId: string;
      sourceProjectId: string;
      destinationProjectId: string;
      atMs: number;
    };

export interface OwnershipInterval {
  diskId: string;
  projectId: string;
  fromMs: number;
  /** null: the project owns the disk still. */
  toMs: number | null;
  /**
   * The transfer whose acceptance gave the project the disk; null for the
   * first interval of the disk's history, or after a change of owner no
   * transfer event explains (see ownershipIntervals).
   */
  startedByTransferId: string | null;
  /** The transfer whose acceptance took the disk away; null while owned, or for an unexplained change. */
  endedByTransferId: string | null;
}

interface TransferFacts {
  transferId: string;
  sourceProjectId: string;
  /** The transfer's place in the disk's history: its creation, or the earliest fact known of it. */
  startMs: number;
  accepted: { destinationProjectId: string; atMs: number } | null;
}

/** Canonical order of facts, so that everything below reads them the same way whatever order they came in. */
function compareFacts(a: OwnershipFact, b: OwnershipFact): number {
  return a.atMs - b.atMs || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}

function transfersOf(facts: readonly OwnershipFact[]): TransferFacts[] {
  const byId = new Map<string, TransferFacts>();
  for (const fact of [...facts].sort(compareFacts)) {
    let transfer = byId.get(fact.transferId);
    if (!transfer) {
      transfer = { transferId: fact.transferId, sourceProjectId: fact.sourceProjectId, startMs: fact.atMs, accepted: null };
      byId.set(fact.transferId, transfer);
    }
    if (fact.kind === 'created') transfer.startMs = fact.atMs;
    if (fact.kind === 'accepted' && transfer.accepted === null) {
      transfer.accepted = { destinationProjectId: fact.destinationProjectId, atMs: fact.atMs };
    }
  }
  return [...byId.values()].sort(
    (a, b) => a.startMs - b.startMs || (a.transferId < b.transferId ? -1 : a.transferId > b.transferId ? 1 : 0),
  );
}

/**
 * The intervals of one disk, oldest first. Walks the transfers in order:
 * the first one's source is the first owner, from the transfer's start;
 * each accepted transfer closes the owner's interval and opens the
 * recipient's at the moment of acceptance.
 *
 * A transfer whose source is not the owner so far means an ownership change
 * the ledger has no event for (events lost, or a change made outside
 * transfers): the interval is closed where that transfer starts and the
 * source's opened, both with no transfer id, rather than pretending either
 * owner kept the disk. Intervals that would be empty are left out.
 */
export function ownershipIntervals(facts: readonly OwnershipFact[]): OwnershipInterval[] {
  const diskIds = new Set(facts.map((f) => f.diskId));
  if (diskIds.size > 1) throw new Error(`ownershipIntervals takes the facts of one disk, got ${[...diskIds].join(', ')}`);
  const [diskId] = diskIds;
  if (diskId === undefined) return [];

  const intervals: OwnershipInterval[] = [];
  let current: Omit<OwnershipInterval, 'toMs' | 'endedByTransferId'> | null = null;
  const close = (atMs: number, endedByTransferId: string | null) => {
    if (current === null) return;
    // Clocks of separate workflows may disagree by a little: never end before the start.
    const toMs = Math.max(atMs, current.fromMs);
    if (toMs > current.fromMs) intervals.push({ ...current, toMs, endedByTransferId });
    current = null;
  };

  for (const transfer of transfersOf(facts)) {
    if (current === null || current.projectId !== transfer.sourceProjectId) {
      const fromMs = Math.max(transfer.startMs, current?.fromMs ?? transfer.startMs);
      close(fromMs, null);
      current = { diskId, projectId: transfer.sourceProjectId, fromMs, startedByTransferId: null };
    }
    if (transfer.accepted) {
      const fromMs = Math.max(transfer.accepted.atMs, current.fromMs);
      close(fromMs, transfer.transferId);
      current = { diskId, projectId: transfer.accepted.destinationProjectId, fromMs, startedByTransferId: transfer.transferId };
    }
  }
  if (current !== null) intervals.push({ ...current, toMs: null, endedByTransferId: null });
  return intervals;
}
