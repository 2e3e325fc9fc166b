/**
 * The fault suite's bookkeeping: which transfers each fault touched, what
 * the clients were told for certain, and, after each repetition, what really
 * happened, read from the three places that know:
 *
 *   Temporal   how each transfer's workflow ended (its result, its runs)
 *   Kafka      the events on the topics, by their deterministic ids
 *   inventory  who owns each disk now, and whether a transfer still holds it
 *
 * plus the read model through the owner's own show. From these it counts,
 * per fault:
 *
 *   lost          an event that should be on Kafka and is not; an accept or
 *                 delete answered 202 that did not end that way
 *   duplicated    a second run of a transfer's workflow, a transfer of the
 *                 disk no client asked for (or was told of), a second
 *                 terminal event (another id) for one transfer
 *   inconsistent  the disk, the read model, the events and the workflow
 *                 disagreeing, an outcome the case does not allow, a
 *                 transfer that never settled, two copies of one event id
 *                 that differ
 *   redelivered   copies of an event with the same id (allowed: consumers
 *                 drop them by id), shown for information
 *
 * Nothing here is scripted: every figure is a count of findings.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { TOPICS } from '../../libs/contracts/src/events';
import type { InventoryClient } from '../../libs/inventory-client/src/inventory.client';
import {
  SEARCH_ATTRIBUTES,
  transferViewQuery,
  transferWorkflowId,
  type TransferWorkflowResult,
} from '../../libs/temporal/src/transfer.definitions';
import type { CollectedEvent, KafkaCollector } from './kafka-collector';
import type { Tenant } from './tenants';

export type Ending = 'accepted' | 'deleted' | 'expired' | 'rejected';
/** What a case allows a transfer to be when it is audited. */
export type Allowed = Ending | 'pending';

export interface TrackedTransfer {
  transferId: string;
  diskId: string;
  /** The disk's owner when the transfer was created; its token reads the read model. */
  owner: Tenant;
  allowed: readonly Allowed[];
}

export type FindingKind = 'lost' | 'duplicated' | 'inconsistent';

export interface Finding {
  fault: string;
  kind: FindingKind;
  subject: string;
  what: string;
}

export interface FaultRow {
  fault: string;
  repetitions: number;
  transfers: number;
  lost: number;
  duplicated: number;
  inconsistent: number;
  redelivered: number;
}

export interface LedgerObservers {
  temporal: () => Promise<Client>;
  /** Service-signed: sees every disk whatever its project (a getter: the stack's secret is made when it starts). */
  inventory: () => InventoryClient;
  /** The collector reading the topics now (cases replace it around broker restarts). */
  events: () => KafkaCollector;
}

interface Tracked extends TrackedTransfer {
  fault: string;
  /** Order of tracking: the last transfer of a disk decides the disk's state. */
  seq: number;
  /** 202 answers the client saw. */
  accepted: string | null;
  deleted: boolean;
}

type Note = (kind: FindingKind, subject: string, what: string) => void;

/** How a transfer stands: null when it never settled (reported); the recipient when accepted. */
interface Standing {
  status: Allowed | null;
  destination: string | null;
}

const LIFECYCLE_STEPS: Record<Allowed, string[]> = {
  pending: ['created'],
  accepted: ['created', 'accepted'],
  deleted: ['created', 'deleted'],
  expired: ['created', 'expired'],
  rejected: ['create_rejected'],
};
const TERMINAL_STEPS = ['accepted', 'deleted', 'expired', 'create_rejected'];

export class FaultLedger {
  private readonly tracked = new Map<string, Tracked>();
  private readonly pendingAudit = new Map<string, string[]>();
  private readonly expectedEvents = new Map<string, string[]>();
  private readonly rowsByFault = new Map<string, FaultRow>();
  private readonly allFindings: Finding[] = [];
  private seq = 0;

  constructor(
    private readonly observers: LedgerObservers,
    private readonly settleTimeoutMs = 60_000,
  ) {}

  /** A fault the suite runs, so it has a row even before (or without) a repetition. */
  declare(fault: string): void {
    this.row(fault);
  }

  track(fault: string, transfer: TrackedTransfer): void {
    if (this.tracked.has(transfer.transferId)) return;
    this.tracked.set(transfer.transferId, { ...transfer, fault, seq: this.seq++, accepted: null, deleted: false });
    this.pendingAudit.set(fault, [...(this.pendingAudit.get(fault) ?? []), transfer.transferId]);
    this.row(fault).transfers += 1;
  }

  /** An answer the client saw: 202 to an accept by `projectId`, or to a delete. */
  confirm(transferId: string, answer: { acceptedBy: string } | { deleted: true }): void {
    const t = this.tracked.get(transferId);
    if (t === undefined) throw new Error(`confirm of an untracked transfer ${transferId}`);
    if ('acceptedBy' in answer) t.accepted = answer.acceptedBy;
    else t.deleted = true;
  }

  /** An event that must reach Kafka (an API audit record of an answered call, a failed-accept record). */
  expectEvent(fault: string, eventId: string): void {
    this.expectedEvents.set(fault, [...(this.expectedEvents.get(fault) ?? []), eventId]);
  }

  /**
   * Audits what the fault touched since its last audit, adds the counts to
   * its row and returns this repetition's findings (empty when all is well).
   */
  async audit(fault: string): Promise<Finding[]> {
    const row = this.row(fault);
    row.repetitions += 1;
    const ids = this.pendingAudit.get(fault) ?? [];
    this.pendingAudit.set(fault, []);
    const eventIds = this.expectedEvents.get(fault) ?? [];
    this.expectedEvents.set(fault, []);

    const findings: Finding[] = [];
    const note: Note = (kind, subject, what) => findings.push({ fault, kind, subject, what });
    const transfers = ids.map((id) => this.tracked.get(id)!);
    const standings = new Map<string, Standing>();
    for (const t of transfers) standings.set(t.transferId, await this.auditTransfer(t, note, row));
    for (const diskId of new Set(transfers.map((t) => t.diskId))) await this.auditDisk(diskId, standings, note);
    for (const eventId of eventIds) {
      const found = await this.waitForEvent(eventId);
      if (found === null) note('lost', eventId, 'never reached Kafka');
      else row.redelivered += this.copies(eventId).length - 1;
    }

    for (const f of findings) row[f.kind] += 1;
    this.allFindings.push(...findings);
    return findings;
  }

  rows(): FaultRow[] {
    return [...this.rowsByFault.values()];
  }

  findings(): readonly Finding[] {
    return this.allFindings;
  }

  totals(): Omit<FaultRow, 'fault'> {
    const sum = (key: keyof Omit<FaultRow, 'fault'>) => this.rows().reduce((n, r) => n + r[key], 0);
    return {
      repetitions: sum('repetitions'),
      transfers: sum('transfers'),
      lost: sum('lost'),
      duplicated: sum('duplicated'),
      inconsistent: sum('inconsistent'),
      redelivered: sum('redelivered'),
    };
  }

  /** The rows as a plain-text table (Markdown, so it pastes into docs/reliability.md as is). */
  table(): string {
    const header = ['fault', 'repetitions', 'transfers affected', 'lost', 'duplicated', 'inconsistent', 'redelivered (same id)'];
    const body = [...this.rows(), { fault: 'total', ...this.totals() }].map((r) => [
      r.fault,
      ...[r.repetitions, r.transfers, r.lost, r.duplicated, r.inconsistent, r.redelivered].map(String),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
    const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
    return [line(header), rule, ...body.map(line)].join('\n');
  }

  /** Writes the rows, totals and every finding as JSON; returns the file. */
  writeReport(file: string, extra: Record<string, unknown> = {}): string {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const report = { ...extra, rows: this.rows(), totals: this.totals(), findings: this.allFindings };
    fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    return file;
  }

  private row(fault: string): FaultRow {
    let row = this.rowsByFault.get(fault);
    if (row === undefined) {
      row = { fault, repetitions: 0, transfers: 0, lost: 0, duplicated: 0, inconsistent: 0, redelivered: 0 };
      this.rowsByFault.set(fault, row);
    }
    return row;
  }

  /** How the transfer stands in Temporal, and checks of everything else against that. */
  private async auditTransfer(t: Tracked, note: Note, row: FaultRow): Promise<Standing> {
    const subject = `transfer ${t.transferId}`;
    const client = await this.observers.temporal();
    const handle = client.workflow.getHandle(transferWorkflowId(t.transferId));

    const standing = await this.standing(t, note);
    const { status, destination } = standing;
    if (status !== null && !t.allowed.includes(status)) {
      note('inconsistent', subject, `it is ${status}; the case allows ${t.allowed.join(' or ')}`);
    }

    let runs = 0;
    for await (const _ of client.workflow.list({ query: `WorkflowId = "${handle.workflowId}"` })) runs += 1;
    if (runs > 1) note('duplicated', subject, `${runs} runs of its workflow`);

    // What the clients were told for certain must have happened.
    if (t.accepted !== null && (status !== 'accepted' || destination !== t.accepted)) {
      note('lost', subject, `accept by ${t.accepted} answered 202, but it is ${status ?? 'unsettled'} (to ${destination ?? 'nobody'})`);
    }
    if (t.deleted && status !== 'deleted') note('lost', subject, `delete answered 202, but it is ${status ?? 'unsettled'}`);
    if (status === null) return standing;

    // The lifecycle on Kafka: exactly the steps of how it stands, each id at least once.
    const expected = LIFECYCLE_STEPS[status].map((step) => `${t.transferId}/${step}`);
    await this.waitForEvent(expected[expected.length - 1]);
    const seen = this.lifecycle(t.transferId);
    const seenIds = [...new Set(seen.map((e) => e.id))];
    for (const id of expected) if (!seenIds.includes(id)) note('lost', subject, `event ${id} never reached Kafka`);
    for (const id of seenIds.filter((i) => !expected.includes(i))) {
      const step = id.slice(id.indexOf('/') + 1);
      note(TERMINAL_STEPS.includes(step) ? 'duplicated' : 'inconsistent', subject, `event ${id}, but it is ${status}`);
    }
    for (const id of seenIds) {
      const copies = seen.filter((e) => e.id === id);
      row.redelivered += copies.length - 1;
      if (new Set(copies.map((e) => JSON.stringify(e.data))).size > 1) note('inconsistent', subject, `copies of ${id} differ`);
    }
    const acceptedEvent = seen.find((e) => e.id === `${t.transferId}/accepted`);
    if (acceptedEvent && acceptedEvent.data.destination_project_id !== destination) {
      note('inconsistent', subject, `accepted event names ${String(acceptedEvent.data.destination_project_id)}, the workflow ${destination ?? 'nobody'}`);
    }

    // The read model, through the owner's show: a pending transfer is shown, any other is gone.
    const shown = (await t.owner.showTransfer(t.transferId)).status;
    if (shown !== (status === 'pending' ? 200 : 404)) note('inconsistent', subject, `the owner's show answers ${shown} while it is ${status}`);
    return standing;
  }

  /**
   * Its workflow's result once closed. A case that allows pending does not
   * wait for an ending it does not expect: a running workflow that is
   * pending counts as pending; one in the middle of something is waited for.
   */
  private async standing(t: Tracked, note: Note): Promise<Standing> {
    const subject = `transfer ${t.transferId}`;
    const handle = (await this.observers.temporal()).workflow.getHandle(transferWorkflowId(t.transferId));
    const view = async () => handle.query(transferViewQuery).catch(() => null);
    if (t.allowed.includes('pending')) {
      const description = await handle.describe().catch(() => null);
      if (description?.status.name === 'RUNNING' && (await view())?.status === 'pending') return { status: 'pending', destination: null };
    }
    const result = await settle(handle.result() as Promise<TransferWorkflowResult>, this.settleTimeoutMs);
    if (!result.settled) {
      note('inconsistent', subject, `did not settle: still ${(await view())?.status ?? 'unknown'} after ${this.settleTimeoutMs} ms`);
      return { status: null, destination: null };
    }
    if (!result.ok) {
      note('inconsistent', subject, `its workflow failed: ${String(result.error)}`);
      return { status: null, destination: null };
    }
    const status = result.value.status as Allowed;
    return { status, destination: status === 'accepted' ? ((await view())?.destinationProjectId ?? null) : null };
  }

  /**
   * The disk's state must be what its last transfer says; earlier transfers
   * of it must have ended; every transfer workflow of the disk must be one a
   * client knows of.
   */
  private async auditDisk(diskId: string, standings: Map<string, Standing>, note: Note): Promise<void> {
    const subject = `disk ${diskId}`;
    const ofDisk = [...this.tracked.values()].filter((t) => t.diskId === diskId).sort((x, y) => x.seq - y.seq);
    const client = await this.observers.temporal();
    const known = new Set(ofDisk.map((t) => transferWorkflowId(t.transferId)));
    for await (const w of client.workflow.list({ query: `${SEARCH_ATTRIBUTES.diskId.name} = "${diskId}"` })) {
      if (!known.has(w.workflowId)) note('duplicated', subject, `transfer workflow ${w.workflowId} that no client was told of`);
    }
    const pendings = ofDisk.filter((t) => standings.get(t.transferId)?.status === 'pending');
    if (pendings.length > 1) note('inconsistent', subject, `${pendings.length} pending transfers`);

    // Refusals leave the disk as it was; the last transfer that got the disk decides.
    const deciding = [...ofDisk].reverse().find((t) => standings.has(t.transferId) && standings.get(t.transferId)?.status !== 'rejected');
    const disk = await this.observers.inventory().getDisk(diskId);
    if (disk === null) {
      note('lost', subject, 'the inventory no longer has it');
      return;
    }
    const holders = ofDisk.filter((t) => disk.transferId === t.transferId);
    if (deciding === undefined) {
      if (holders.length > 0) note('inconsistent', subject, `held by refused transfer ${disk.transferId}`);
      return;
    }
    const { status: ending, destination } = standings.get(deciding.transferId)!;
    if (ending === null) return; // reported as unsettled already
    const expectedOwner = ending === 'accepted' ? destination : deciding.owner.projectId;
    const want =
      ending === 'pending'
        ? { projectId: expectedOwner, status: 'awaiting-transfer', transferId: deciding.transferId }
        : { projectId: expectedOwner, status: 'available', transferId: null };
    const got = { projectId: disk.projectId, status: disk.status, transferId: disk.transferId };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      note('inconsistent', subject, `is ${JSON.stringify(got)}, but transfer ${deciding.transferId} is ${ending}: expected ${JSON.stringify(want)}`);
    }
  }

  private lifecycle(transferId: string): CollectedEvent[] {
    return this.observers.events().events.filter((e) => e.topic === TOPICS.lifecycle && e.subject === `transfers/${transferId}`);
  }

  private copies(eventId: string): CollectedEvent[] {
    return this.observers.events().events.filter((e) => e.id === eventId);
  }

  private async waitForEvent(eventId: string): Promise<CollectedEvent | null> {
    return this.observers
      .events()
      .waitFor((e) => e.id === eventId, this.settleTimeoutMs)
      .catch(() => null);
  }
}

type Settled<T> = { settled: true; ok: true; value: T } | { settled: true; ok: false; error: unknown } | { settled: false };

/** The promise's outcome if it settles within `ms`. */
async function settle<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ settled: false }), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value): Settled<T> => ({ settled: true, ok: true, value }),
        (error: unknown): Settled<T> => ({ settled: true, ok: false, error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
