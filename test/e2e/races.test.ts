/**
 * Exactly one terminal outcome, whatever races: many accepts at once, and
 * accept against delete. The loser gets a clear error; the disk ends with one
 * owner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOUD_EVENT_TYPES, TOPICS } from '../../libs/contracts/src/events';
import { KafkaCollector } from '../support/kafka-collector';
import { Tenant } from '../support/tenants';

let events: KafkaCollector;
beforeAll(async () => {
  events = await KafkaCollector.start([TOPICS.lifecycle]);
});
afterAll(async () => {
  await events.stop();
});

describe('races', () => {
  it('20 concurrent accepts by different tenants: exactly one succeeds and owns the disk', async () => {
    const a = await Tenant.create('race-a');
    const disk = await a.createDisk();
    const { transfer } = (await a.createTransfer(disk.id)).body;
    const bidders = await Promise.all(Array.from({ length: 20 }, (_, i) => Tenant.create(`bidder${i}`)));
    const answers = await Promise.all(bidders.map((b) => b.acceptTransfer(transfer.id, transfer.auth_key)));

    const winners = answers.flatMap((res, i) => (res.status === 202 ? [bidders[i]] : []));
    expect(winners).toHaveLength(1);
    for (const res of answers.filter((r) => r.status !== 202)) {
      expect([404, 409]).toContain(res.status);
      expect(res.body.error.code).toMatch(/^EVS\.54(04|10)$/);
    }
    const winner = winners[0];
    const owned = await winner.disk(disk.id);
    expect(owned?.['os-vol-tenant-attr:tenant_id']).toBe(winner.projectId);
    expect(owned?.status).toBe('available');
    for (const loser of bidders.filter((b) => b !== winner)) expect(await loser.disk(disk.id)).toBeNull();

    await events.waitFor((e) => e.id === `${transfer.id}/accepted`);
    const terminal = events.events.filter(
      (e) => e.subject === `transfers/${transfer.id}` && e.type !== CLOUD_EVENT_TYPES.TransferCreated,
    );
    expect(terminal.map((e) => e.type)).toEqual([CLOUD_EVENT_TYPES.TransferAccepted]);
    expect(terminal[0].data.destination_project_id).toBe(winner.projectId);
  });

  it('accept against delete: exactly one wins, and the disk agrees with the winner', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await Tenant.create('ad-a');
      const b = await Tenant.create('ad-b');
      const disk = await a.createDisk();
      const { transfer } = (await a.createTransfer(disk.id)).body;
      const [accepted, deleted] = await Promise.all([
        b.acceptTransfer(transfer.id, transfer.auth_key),
        a.deleteTransfer(transfer.id),
      ]);
      const statuses = [accepted.status, deleted.status];
      expect(statuses.filter((s) => s === 202)).toHaveLength(1);
      const owner = accepted.status === 202 ? b : a;
      const view = await owner.disk(disk.id);
      expect(view?.status).toBe('available');
      expect(view?.['os-vol-tenant-attr:tenant_id']).toBe(owner.projectId);
      const outcome = accepted.status === 202 ? 'accepted' : 'deleted';
      await events.waitFor((e) => e.id === `${transfer.id}/${outcome}`);
      const ends = events.events.filter(
        (e) => e.subject === `transfers/${transfer.id}` && e.type !== CLOUD_EVENT_TYPES.TransferCreated,
      );
      expect(ends.map((e) => e.id)).toEqual([`${transfer.id}/${outcome}`]);
    }
  });
});
