/**
 * One transfer, one workflow: lock the disk, wait for accept, delete or
 * expiry, then move or release the disk. The decisions are the pure decider's
 * (libs/domain); this file only waits, calls activities and records.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  proxyActivities,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { EventActivities, InventoryActivities, ReadModelActivities } from '../activities';
import type { OutgoingRecord } from '../libs/contracts/src/events';
import type { ReleaseResult } from '../libs/inventory-client/src/inventory.client';
import { transferEventRecord } from '../libs/contracts/src/events';
import type { ErrorName } from '../libs/domain/src/errors';
import type { CreationFacts } from '../libs/domain/src/idempotent-create';
import { ERROR_CATALOGUE } from '../libs/domain/src/errors';
import { retriedCreationRefusal, sameCreation } from '../libs/domain/src/idempotent-create';
import type { Decision, DecisionError, TransferCommand, TransferRequest, TransferState } from '../libs/domain/src/transfer';
import { decide, evolve, initialState, isPublished, isTerminal } from '../libs/domain/src/transfer';
import {
  acceptUpdate,
  awaitCreationUpdate,
  DEFAULT_VALIDATION_TIMEOUT_MS,
  deleteUpdate,
  forceDeleteUpdate,
  SEARCH_ATTRIBUTES,
  transferViewQuery,
  type AcceptRequest,
  type DeleteRequest,
  type ForceDeleteOutcome,
  type TransferView,
  type TransferWorkflowOptions,
  type TransferWorkflowResult,
} from '../libs/temporal/src/transfer.definitions';
import { currentTraceScope, inTraceScope, type TraceScope } from './trace-scope';

/*
 * The lock a create takes and the read-model writes are local activities:
 * short calls the worker makes itself, inside the workflow task that asked
 * for them, so a create takes one workflow task instead of three (each a
 * round trip through the server's queues; docs/performance.md). A worker
 * that dies mid-task leaves no trace of them in history, and the next worker
 * runs them again with the same inputs: each is idempotent.
 *
 * Moving or releasing the disk stays an ordinary activity: it acts on a
 * decision (this accept, that delete) that must be in history before the
 * disk moves. A local activity would run inside the very workflow task that
 * makes the decision, and when concurrent updates race, that task may not be
 * the one the server keeps: the disk would have moved for a bidder the next
 * task does not choose.
 *
 * Events are appended to the worker's outbox by a local activity too (most in
 * the transaction of the read-model write they announce, see recordThenApply),
 * and the worker's relay takes them to Kafka from there, so a broker outage
 * holds up neither the workflow nor its history (it did, as an ordinary activity
 * retried for as long as the outage lasted, two tasks per event batch). An
 * event decided in the main loop follows from history, so the next worker
 * that replays the task decides it again, the same: appending it at once is
 * safe. One decided in an update's handler (a wrong key, a lock-out) is only
 * final once the task that took the update is in history; a task the server
 * does not keep is taken again, perhaps with the updates in another order.
 * Such events wait for a durable timer to fire first (see the publisher).
 */

/**
 * A step that keeps failing waits for its next attempt on a durable timer
 * once the back-off passes this, ending the workflow task: an accept, delete
 * or force-delete arriving meanwhile is then taken at once, not after the
 * retries (a local activity holds its workflow task while it runs).
 */
const LOCAL_RETRY_THRESHOLD = '1s';

/**
 * Transfers started before the lock and the read-model writes became local
 * activities ran them as ordinary ones, and their histories say so: they
 * keep doing that to the end, or replaying them would fail. Started since,
 * the marker says local.
 */
const LOCAL_STEPS_PATCH = 'lock-and-read-model-steps-local';

/**
 * Likewise, transfers started before the event outbox publish through publishEvents to the end
 * (and set their first state themselves: each search-attribute update is a write to Temporal's
 * visibility store).
 */
const EVENT_OUTBOX_PATCH = 'events-through-worker-outbox';

/**
 * Transfers started since this marker take both of the markers above as
 * given instead of recording them (each is a history event and, as the SDK
 * records it, a search-attribute update too), and their read-model writes
 * carry the events that announce them (see recordThenApply). Older
 * histories lack it and keep their own markers and steps. Transfers started
 * at revision 1 or later (TRANSFER_WORKFLOW_REVISION) take this one as given
 * too, and record no marker at all.
 */
const EVENTS_WITH_READ_MODEL_PATCH = 'read-model-writes-carry-their-events';

/**
 * Validation is bounded: create must give the caller a definite answer within
 * the gateway's deadline, so an unreachable inventory ends as a 503 rejection
 * rather than a transfer nobody holds the key to. The bound comes with the
 * workflow's options (default 20 s).
 */
function validationSteps(local: boolean, timeoutMs: number): InventoryActivities {
  const options = {
    startToCloseTimeout: '5s',
    scheduleToCloseTimeout: timeoutMs,
    retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s' },
  } as const;
  return local
    ? proxyLocalActivities<InventoryActivities>({ ...options, localRetryThreshold: LOCAL_RETRY_THRESHOLD })
    : proxyActivities<InventoryActivities>(options);
}

/**
 * Settling steps (move, release, read-model writes) are retried without end:
 * the decision is already taken and recorded, and every step is idempotent,
 * so the only way to be consistent is to finish.
 */
const SETTLING = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
} as const;

const moving = proxyActivities<InventoryActivities>(SETTLING);

function recordingSteps(local: boolean): ReadModelActivities {
  return local
    ? proxyLocalActivities<ReadModelActivities>({ ...SETTLING, localRetryThreshold: LOCAL_RETRY_THRESHOLD })
    : proxyActivities<ReadModelActivities>(SETTLING);
}

/** Before the outbox: publishing waited out a broker outage the same way, without holding up the transfer. */
const publishingDirectly = proxyActivities<EventActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s' },
});

/** Appending to the outbox is a write to the worker's database, retried without end like the read model's. */
const enqueuing = proxyLocalActivities<EventActivities>({ ...SETTLING, localRetryThreshold: LOCAL_RETRY_THRESHOLD });

/** An event on its way out, with the trace it was decided in and whether an update's handler decided it. */
interface OutboxEntry {
  record: OutgoingRecord;
  scope: TraceScope;
  decidedInUpdate: boolean;
}

function toFailure(error: DecisionError): ApplicationFailure {
  return ApplicationFailure.create({
    type: error.name,
    message: error.details?.message ?? ERROR_CATALOGUE[error.name].message,
    details: [error.details ?? {}],
    nonRetryable: true,
  });
}

export async function transferWorkflow(
  request: TransferRequest,
  options: TransferWorkflowOptions = {},
): Promise<TransferWorkflowResult> {
  // Evaluated in this order, and only as far as needed: a marker is recorded by the first call that finds it
  // missing, and a run started with a revision asks for none.
  const eventsWithReadModel = (options.revision ?? 0) >= 1 || patched(EVENTS_WITH_READ_MODEL_PATCH);
  const localSteps = eventsWithReadModel || patched(LOCAL_STEPS_PATCH);
  const eventsThroughOutbox = eventsWithReadModel || patched(EVENT_OUTBOX_PATCH);
  const recording = recordingSteps(localSteps);
  let state: TransferState = initialState(request);
  const outbox: OutboxEntry[] = [];
  /** The publisher has a batch on its way to the outbox. */
  let publishing = false;
  /** A read-model write is carrying events: the publisher waits, so they keep their order. */
  let carrying = false;
  /** The run's own trace (the create's): active in the main loop. */
  const runScope = currentTraceScope();
  /** The trace of the call that set the current steps going (an accept, a delete), or the run's. */
  let drivingScope = runScope;
  /** The create call answers once the read model shows the transfer, so show works at once. */
  let visible = false;
  /** Why an accept was undone (by its request id), for the accept call waiting on it. */
  const abortedAccepts = new Map<string, ErrorName>();
  let finished = false;

  /** Applies `decision`; its events go to the outbox unless their ids are in `carried` (already on their way). */
  const apply = (decision: Decision, decidedInUpdate: boolean, carried: ReadonlySet<string> = new Set()): void => {
    const before = state.status;
    // In a handler, the update's trace; in the main loop, that of whoever set its steps going.
    const current = currentTraceScope();
    const scope = current === runScope ? drivingScope : current;
    const { next, records } = outcomeOf(state, decision);
    state = next;
    for (const record of records) {
      if (!carried.has(record.event.id)) outbox.push({ record, scope, decidedInUpdate });
    }
    if (state.status !== before) {
      drivingScope = state.status === 'pending' ? runScope : scope;
      showProgress();
    }
  };
  /** Decides and applies `command`; `inUpdate` when an update's handler asks, the main loop otherwise. */
  const run = (command: TransferCommand, inUpdate = false): Decision => {
    const decision = decide(state, command);
    apply(decision, inUpdate);
    return decision;
  };

  const showProgress = (): void => {
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.state, value: state.status },
      ...(state.status === 'accepted' && state.recipient
        ? [{ key: SEARCH_ATTRIBUTES.destinationProjectId, value: state.recipient.projectId }]
        : []),
    ]);
    showDetails();
  };
  const showDetails = (): void => {
    setCurrentDetails(
      `**${state.status}**: disk \`${request.volumeId}\` of project \`${request.owner.projectId}\`` +
        (state.recipient ? ` to project \`${state.recipient.projectId}\`` : '') +
        (state.rejection ? ` (refused: ${state.rejection})` : ''),
    );
  };

  setHandler(transferViewQuery, (): TransferView => ({
    transferId: request.transferId,
    volumeId: request.volumeId,
    status: state.status,
    sourceProjectId: request.owner.projectId,
    destinationProjectId: state.status === 'accepted' ? (state.recipient?.projectId ?? null) : null,
    createdAtMs: request.createdAtMs,
    expiresAtMs: state.expiresAtMs,
    failedAccepts: state.totalFailedAccepts,
    lockedUntilMs: state.lockedUntilMs,
  }));

  setHandler(
    awaitCreationUpdate,
    async () => {
      await condition(() => visible || state.status === 'rejected');
      if (state.status === 'rejected') throw toFailure({ name: state.rejection ?? 'Internal' });
      return { transferId: request.transferId, createdAtMs: request.createdAtMs };
    },
    {
      // A create retried with its Idempotency-Key arrives here at any point of
      // the transfer's life: it must ask for the same thing, and once the
      // transfer has ended it learns that instead of getting a dead key.
      validator: (asked?: CreationFacts) => {
        if (asked !== undefined && !sameCreation(request, asked)) throw toFailure({ name: 'IdempotencyKeyReused' });
        const refusal = retriedCreationRefusal({ status: state.status, reason: state.rejection });
        if (refusal) throw toFailure(refusal);
      },
    },
  );

  setHandler(
    acceptUpdate,
    async ({ actor, authKeyHash }) => {
      const decision = run({ kind: 'Accept', actor, authKeyHash, now: Date.now() }, true);
      if (decision.error) throw toFailure(decision.error);
      // Not merely "no longer accepting": a force-delete that cut this accept
      // short may still find the disk moved, and then this accept succeeded.
      await condition(() => state.status === 'pending' || isTerminal(state.status));
      if (state.status === 'accepted' && state.recipient?.requestId === actor.requestId) {
        return { transferId: request.transferId, volumeId: request.volumeId, name: request.name };
      }
      throw toFailure({ name: abortedAccepts.get(actor.requestId) ?? 'TransferNotFound' });
    },
    {
      // Refusals that change nothing never reach history; a wrong key does
      // (it is counted), so it passes the validator and fails in the handler.
      validator: ({ actor, authKeyHash }: AcceptRequest) => {
        const decision = decide(state, { kind: 'Accept', actor, authKeyHash, now: Date.now() });
        if (decision.error && decision.events.length === 0) throw toFailure(decision.error);
      },
    },
  );

  setHandler(
    deleteUpdate,
    async ({ actor }) => {
      const decision = run({ kind: 'Delete', actor, now: Date.now() }, true);
      if (decision.error) throw toFailure(decision.error);
      await condition(() => isTerminal(state.status));
    },
    {
      validator: ({ actor }: DeleteRequest) => {
        const decision = decide(state, { kind: 'Delete', actor, now: Date.now() });
        if (decision.error) throw toFailure(decision.error);
      },
    },
  );

  setHandler(
    forceDeleteUpdate,
    async ({ actor }): Promise<ForceDeleteOutcome> => {
      const decision = run({ kind: 'ForceDelete', actor, now: Date.now() }, true);
      if (decision.error) throw toFailure(decision.error);
      await condition(() => isTerminal(state.status));
      if (state.status === 'accepted') throw toFailure({ name: 'TransferAlreadyAccepted' });
      return { transferId: request.transferId, volumeId: request.volumeId, ownerProjectId: request.owner.projectId };
    },
    {
      validator: ({ actor }: DeleteRequest) => {
        const decision = decide(state, { kind: 'ForceDelete', actor, now: Date.now() });
        if (decision.error) throw toFailure(decision.error);
      },
    },
  );

  // Events leave in the order they happened, on their own strand, so a broker
  // outage delays events but never an API call.
  const publisher = (async () => {
    for (;;) {
      await condition(() => (outbox.length > 0 && !carrying) || finished);
      if (outbox.length === 0) return;
      const ready = Math.min(outbox.length, 50);
      if (eventsThroughOutbox && outbox.slice(0, ready).some((entry) => entry.decidedInUpdate)) {
        // This timer ends the task that took the update; once it fires, that task is in history and
        // its decisions final. Events decided meanwhile wait for the next round.
        await sleep(1);
      }
      const batch = outbox.slice(0, ready).map((entry) => entry.record);
      // A batch is nearly always one event; when not, it travels in the trace of its newest.
      publishing = true;
      await inTraceScope(outbox[ready - 1].scope, () =>
        eventsThroughOutbox ? enqueuing.enqueueEvents(batch) : publishingDirectly.publishEvents(batch),
      );
      publishing = false;
      // Only what was sent: events recorded while the batch was in flight
      // wait for the next round.
      outbox.splice(0, ready);
    }
  })();

  /**
   * Runs a read-model write (`write`), then applies what `command` decides.
   * In transfers with the marker, the write carries the events waiting in
   * the outbox and those the command will publish, appended in its own
   * transaction: one step instead of a write and an append. Only when that
   * keeps every event final and in order: none waits for an update's task to
   * reach history, no batch is on its way, and the write runs in the trace
   * they were decided in. Otherwise the write goes alone and the events the
   * usual way.
   *
   * The command is decided before the write, to know its events, and again
   * after it, on the state then, which is what is applied. The state can
   * change meanwhile only through an update's handler; none of those
   * publishes an event or alters what an ending publishes (an administrator
   * may force-delete an accept whose disk has already moved: it is still
   * announced as accepted, to the same recipient, with the same id). Should
   * the second decision publish anything the first did not, it goes through
   * the outbox, so nothing is lost either way.
   */
  const recordThenApply = async (
    write: (events: OutgoingRecord[]) => Promise<void>,
    command: TransferCommand | null,
  ): Promise<void> => {
    const canCarry =
      eventsWithReadModel &&
      !publishing &&
      outbox.every((entry) => !entry.decidedInUpdate && entry.scope === drivingScope);
    const waiting = canCarry ? outbox.splice(0) : [];
    const carried = [
      ...waiting.map((entry) => entry.record),
      ...(canCarry && command ? outcomeOf(state, decide(state, command)).records : []),
    ];
    carrying = carried.length > 0;
    try {
      await inTraceScope(drivingScope, () => write(carried));
    } catch (err) {
      outbox.unshift(...waiting);
      throw err;
    } finally {
      carrying = false;
    }
    if (command) apply(decide(state, command), false, new Set(carried.map((record) => record.event.id)));
  };

  // The starter sets the first state (validating) with the other search attributes, as the gateway
  // always has; transfers started before the outbox set it again, and replay must see them do so.
  if (eventsThroughOutbox) showDetails();
  else showProgress();
  await validate(request, run, validationSteps(localSteps, options.validationTimeoutMs ?? DEFAULT_VALIDATION_TIMEOUT_MS));

  if (state.status === 'pending') {
    const row = {
      id: request.transferId,
      name: request.name,
      volumeId: request.volumeId,
      projectId: request.owner.projectId,
      createdAtMs: request.createdAtMs,
      expiresAtMs: state.expiresAtMs,
    };
    // The created event was decided by the lock's answer and waits in the outbox: it goes with the row.
    await recordThenApply((events) => recording.recordTransferPending(...stepArguments(row, events)), null);
    visible = true;
  }

  while (!isTerminal(state.status)) {
    if (state.status === 'pending') {
      const untilExpiry = state.expiresAtMs - Date.now();
      // A durable timer: it survives worker and server restarts.
      if (untilExpiry > 0) {
        await condition(() => state.status !== 'pending', untilExpiry, { summary: 'expiry of the transfer' });
      }
      if (state.status === 'pending') run({ kind: 'Expire', now: Date.now() });
      continue;
    }
    if (state.status === 'accepting' && state.recipient) {
      const recipient = state.recipient;
      const step = await unlessAbandoned(
        () =>
          inTraceScope(drivingScope, () =>
            moving.reassignDisk({ diskId: request.volumeId, transferId: request.transferId, toProjectId: recipient.projectId }),
          ),
        () => state.status !== 'accepting',
      );
      // Force-deleted while the move was retrying: releasing the lock (next round) finds out whether it had moved.
      if (!step.done) continue;
      const moved = step.value;
      if (moved.ok) {
        const ending = { transferId: request.transferId, outcome: 'accepted', atMs: Date.now(), destinationProjectId: recipient.projectId } as const;
        await recordThenApply(
          (events) => recording.recordTransferEnded(...stepArguments(ending, events)),
          { kind: 'RecordDiskReassigned', disk: moved.disk, now: Date.now() },
        );
      } else if (run({ kind: 'RecordDiskReassignRefused', reason: moved.reason, now: Date.now() }).events.length > 0) {
        abortedAccepts.set(recipient.requestId, moved.reason);
      }
      continue;
    }
    if (state.status === 'deleting' || state.status === 'expiring') {
      // Workflows whose release ran before this activity reported where the disk is have no answer in
      // their history: those were plain releases.
      const release: ReleaseResult | undefined = await inTraceScope(drivingScope, () =>
        moving.releaseDiskTransferLock({ diskId: request.volumeId, transferId: request.transferId }),
      );
      const found: TransferCommand = {
        kind: 'RecordDiskReleased',
        now: Date.now(),
        released: release?.released ?? true,
        disk: release?.disk ?? null,
      };
      // The read model records the ending first (show must not outlive the transfer), so learn it now.
      const accepted = decide(state, found).events.find((e) => e.type === 'TransferAccepted');
      const ending = {
        transferId: request.transferId,
        outcome: accepted ? 'accepted' : state.status === 'deleting' ? 'deleted' : 'expired',
        atMs: Date.now(),
        destinationProjectId: accepted?.recipient.projectId ?? null,
      } as const;
      await recordThenApply((events) => recording.recordTransferEnded(...stepArguments(ending, events)), found);
      continue;
    }
    throw ApplicationFailure.nonRetryable(`transfer in unexpected status ${state.status}`);
  }

  finished = true;
  await publisher;
  // A caller waiting on an update must get its answer, not a closed workflow.
  await condition(allHandlersFinished);
  return { transferId: request.transferId, status: state.status, reason: state.rejection };
}

/** What `decision` makes of `state`, and the records of the events it publishes, without applying it. */
function outcomeOf(state: TransferState, decision: Decision): { next: TransferState; records: OutgoingRecord[] } {
  let next = state;
  const records: OutgoingRecord[] = [];
  for (const event of decision.events) {
    next = evolve(next, event);
    if (isPublished(event)) records.push(transferEventRecord(next, event));
  }
  return { next, records };
}

/**
 * A read-model step's arguments: its input and the events it carries, if
 * any. Without, the call has one argument, as in the histories from before
 * events rode along: replay must see it made the same way.
 */
function stepArguments<I>(input: I, events: OutgoingRecord[]): [I, OutgoingRecord[]?] {
  return events.length > 0 ? [input, events] : [input];
}

async function validate(
  request: TransferRequest,
  run: (command: TransferCommand) => Decision,
  validation: InventoryActivities,
): Promise<void> {
  const lockInput = { diskId: request.volumeId, projectId: request.owner.projectId, transferId: request.transferId };
  try {
    const locked = await validation.lockDiskForTransfer(lockInput);
    run(
      locked.ok
        ? { kind: 'RecordDiskLocked', disk: locked.disk, now: Date.now() }
        : { kind: 'RecordDiskLockRefused', reason: locked.reason, now: Date.now() },
    );
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    // The inventory did not answer in time. It may have taken the lock on a
    // try whose answer was lost: give it back before saying no.
    run({ kind: 'RecordDiskLockRefused', reason: 'DependencyUnavailable', now: Date.now() });
    await moving.releaseDiskTransferLock({ diskId: request.volumeId, transferId: request.transferId });
  }
}

type StepOutcome<T> = { done: true; value: T } | { done: false };

/**
 * Runs a settling step (retried without end) unless `abandoned()` comes to
 * hold first, as when a force-delete cuts an accept short; then the step's
 * activity is cancelled. An attempt already at the inventory may still land,
 * which is why the caller learns where the disk really is from the next step
 * rather than from here. A step that finishes in the same moment wins.
 */
async function unlessAbandoned<T>(step: () => Promise<T>, abandoned: () => boolean): Promise<StepOutcome<T>> {
  const scope = new CancellationScope();
  const finished: { result?: { ok: true; value: T } | { ok: false; error: unknown } } = {};
  void scope.run(step).then(
    (value) => {
      finished.result = { ok: true, value };
    },
    (error: unknown) => {
      finished.result = { ok: false, error };
    },
  );
  await condition(() => finished.result !== undefined || abandoned());
  const { result } = finished;
  if (result === undefined) {
    scope.cancel();
    return { done: false };
  }
  if (!result.ok) throw result.error;
  return { done: true, value: result.value };
}
