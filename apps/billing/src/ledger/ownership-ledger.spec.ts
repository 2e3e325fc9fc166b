import { describe, expect, it } from 'vitest';
import { type OwnershipFact, ownershipIntervals } from './ownership-ledger';

const DISK = 'disk-1';
const T = (minute: number) => Date.UTC(2026, 0, 1, 0, minute);

const created = (transferId: string, source: string, minute: number): OwnershipFact => ({
  eventId: `${transferId}/created`,
  kind: 'created',
  diskId: DISK,
  transferId,
  sourceProjectId: source,
  atMs: T(minute),
});
const accepted = (transferId: string, source: string, destination: string, minute: number): OwnershipFact => ({
  eventId: `${transferId}/accepted`,
  kind: 'accepted',
  diskId: DISK,
  transferId,
  sourceProjectId: source,
  destinationProjectId: destination,
  atMs: T(minute),
});
const ended = (kind: 'deleted' | 'expired', transferId: string, source: string, minute: number): OwnershipFact => ({
  eventId: `${transferId}/${kind}`,
  kind,
  diskId: DISK,
  transferId,
  sourceProjectId: source,
  atMs: T(minute),
});

const interval = (projectId: string, from: number, to: number | null, startedBy: string | null, endedBy: string | null) => ({
  diskId: DISK,
  projectId,
  fromMs: T(from),
  toMs: to === null ? null : T(to),
  startedByTransferId: startedBy,
  endedByTransferId: endedBy,
});

/** Every ordering of a small list, to show the result does not depend on arrival order. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('ownershipIntervals', () => {
  it('has no history for a disk no event names', () => {
    expect(ownershipIntervals([])).toEqual([]);
  });

  it('starts the owner at the transfer’s creation and hands over at its acceptance (the seed procedure)', () => {
    expect(ownershipIntervals([created('t1', 'a', 10), accepted('t1', 'a', 'b', 15)])).toEqual([
      interval('a', 10, 15, null, 't1'),
      interval('b', 15, null, 't1', null),
    ]);
  });

  it('chains owners through successive transfers, and leaves the owner alone for a deleted or expired one', () => {
    const facts = [
      created('t1', 'a', 10),
      accepted('t1', 'a', 'b', 15),
      created('t2', 'b', 20),
      ended('deleted', 't2', 'b', 21),
      created('t3', 'b', 30),
      ended('expired', 't3', 'b', 40),
      created('t4', 'b', 50),
      accepted('t4', 'b', 'c', 55),
    ];

    expect(ownershipIntervals(facts)).toEqual([
      interval('a', 10, 15, null, 't1'),
      interval('b', 15, 55, 't1', 't4'),
      interval('c', 55, null, 't4', null),
    ]);
  });

  it('gives the same intervals for every arrival order, and for duplicates', () => {
    const facts = [created('t1', 'a', 10), accepted('t1', 'a', 'b', 15), created('t2', 'b', 20), accepted('t2', 'b', 'a', 25), created('t3', 'a', 30)];
    const expected = ownershipIntervals(facts);

    for (const order of permutations(facts)) {
      expect(ownershipIntervals(order)).toEqual(expected);
    }
    expect(ownershipIntervals([...facts, ...facts.slice(1, 3)])).toEqual(expected);
  });

  it('follows transfer order, not event clocks: the next transfer may be created a moment before the last one’s acceptance is stamped', () => {
    // b starts t2 as soon as the disk is b's, before t1's accepted event is stamped.
    const facts = [created('t1', 'a', 10), accepted('t1', 'a', 'b', 15), created('t2', 'b', 14), accepted('t2', 'b', 'c', 20)];

    expect(ownershipIntervals(facts)).toEqual([
      interval('a', 10, 15, null, 't1'),
      interval('b', 15, 20, 't1', 't2'),
      interval('c', 20, null, 't2', null),
    ]);
  });

  it('starts history at an acceptance when that is the first event naming the disk: the recipient’s interval comes first', () => {
    expect(ownershipIntervals([accepted('t1', 'a', 'b', 15), created('t2', 'b', 20)])).toEqual([interval('b', 15, null, 't1', null)]);
  });

  it('closes an owner where a transfer of another source starts, with no transfer id, when no event explains the change', () => {
    // t1's acceptance (a → b) never reached the ledger.
    const facts = [created('t1', 'a', 10), created('t2', 'b', 20), accepted('t2', 'b', 'c', 25)];

    expect(ownershipIntervals(facts)).toEqual([
      interval('a', 10, 20, null, null),
      interval('b', 20, 25, null, 't2'),
      interval('c', 25, null, 't2', null),
    ]);
  });

  it('refuses to mix disks', () => {
    expect(() => ownershipIntervals([created('t1', 'a', 10), { ...created('t2', 'a', 11), diskId: 'disk-2' }])).toThrow(/one disk/);
  });
});
