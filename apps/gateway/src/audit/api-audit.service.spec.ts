import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_ACTIONS, type OutgoingRecord } from '../../../../libs/contracts/src/events';
import type { EventPublisher } from '../../../../libs/kafka/src/event-publisher';
import { createRequestContext, type RequestContext } from '../http/request-context';
import { ApiAuditService } from './api-audit.service';
import { AuditOutbox } from './audit-outbox';

const options = { batchSize: 2, minBackoffMs: 5, maxBackoffMs: 20, pollMs: 20, lingerMs: 20 };

async function service(publisher: EventPublisher, outbox?: Promise<AuditOutbox>): Promise<ApiAuditService> {
  return new ApiAuditService(publisher, options, await (outbox ?? AuditOutbox.open({ dialect: 'sqlite', file: ':memory:' })));
}

function outboxIn(file: string): Promise<AuditOutbox> {
  return AuditOutbox.open({ dialect: 'sqlite', file });
}

function context(action: RequestContext['action'] = API_ACTIONS.delete): RequestContext {
  const ctx = createRequestContext({ socket: { remoteAddress: '::ffff:10.1.2.3' } } as never);
  ctx.action = action;
  ctx.principal = { projectId: 'p', userId: 'u', roles: [] };
  ctx.pathProjectId = 'p';
  ctx.target = { transferId: 't', volumeId: 'v' };
  return ctx;
}

class Publisher implements EventPublisher {
  sent: OutgoingRecord[][] = [];
  fail = 0;
  hang = false;
  /** Publishes wait for this first, when set. */
  gate: Promise<void> | null = null;
  attempts = 0;
  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    this.attempts += 1;
    if (this.hang) return new Promise(() => undefined);
    await this.gate;
    if (this.fail > 0) {
      this.fail -= 1;
      throw new Error('down');
    }
    this.sent.push([...records]);
  }
}

describe('ApiAuditService', () => {
  // The service logs failures and lost records by design; keep the test output quiet.
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));

  it('publishes one record per audited request, once, in batches, from the request facts', async () => {
    const publisher = new Publisher();
    let open!: () => void;
    // The first batch stays in flight until every record is stored, so the batches are [first] and [the next two].
    publisher.gate = new Promise((resolve) => (open = resolve));
    const audit = await service(publisher);
    const a = context();
    await audit.recordOutcome(a, 202, null);
    await vi.waitFor(() => expect(publisher.attempts).toBe(1));
    await audit.recordOutcome(a, 500, 'EVS.5500');
    await audit.recordOutcome(context(), 404, 'EVS.5404');
    await audit.recordOutcome(context(), 202, null);
    open();
    await audit.drain(1000);
    expect(publisher.sent.map((b) => b.length)).toEqual([1, 2]);
    const [first] = publisher.sent[0];
    expect(first.event.id).toBe(`api/${a.requestId}`);
    expect(first.event.data).toMatchObject({ http_status: 202, source_ip: '10.1.2.3', action: 'evs:transfers:delete' });
  });

  it('ignores requests that are not audited: unknown routes and a project’s reads of its own transfers', async () => {
    const publisher = new Publisher();
    const audit = await service(publisher);
    await audit.recordOutcome(context(null), 200, null);
    await audit.recordOutcome(context(API_ACTIONS.list), 200, null);
    await audit.recordOutcome(context(API_ACTIONS.get), 404, 'EVS.5404');
    await audit.drain(100);
    expect(publisher.sent).toEqual([]);
  });

  it('audits an administrator’s actions, the all-projects list included, with their action names', async () => {
    const publisher = new Publisher();
    const audit = await service(publisher);
    await audit.recordOutcome(context(API_ACTIONS.listAllProjects), 200, null);
    await audit.recordOutcome(context(API_ACTIONS.forceDelete), 202, null);
    await audit.drain(1000);
    expect(publisher.sent.flat().map((r) => r.event.data)).toEqual([
      expect.objectContaining({ action: 'evs:transfers:list_all_projects', outcome: 'success' }),
      expect.objectContaining({ action: 'evs:transfers:force_delete', outcome: 'success' }),
    ]);
  });

  it('retries with back-off until the publisher takes the records', async () => {
    const publisher = new Publisher();
    publisher.fail = 3;
    const audit = await service(publisher);
    await audit.recordOutcome(context(), 202, null);
    await vi.waitFor(() => expect(publisher.sent.flat()).toHaveLength(1));
    await vi.waitFor(async () => expect(await audit.pending()).toBe(0));
  });

  it('keeps what it could not send in the outbox, and a restarted service sends it at boot', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-audit-'));
    try {
      const file = path.join(dir, 'outbox.sqlite');
      const down = new Publisher();
      down.hang = true;
      const first = await service(down, outboxIn(file));
      const a = context();
      const b = context();
      await first.recordOutcome(a, 202, null);
      await first.recordOutcome(b, 404, 'EVS.5404');
      // No drain, no close: as if the gateway had been killed.
      const publisher = new Publisher();
      const second = await service(publisher, outboxIn(file));
      expect(await second.pending()).toBe(2);
      await second.onApplicationBootstrap();
      await vi.waitFor(async () => expect(await second.pending()).toBe(0));
      expect(publisher.sent.flat().map((r) => r.event.id)).toEqual([`api/${a.requestId}`, `api/${b.requestId}`]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops waiting at the drain deadline, keeping what was not sent for the next start', async () => {
    const publisher = new Publisher();
    publisher.hang = true;
    const audit = await service(publisher);
    await audit.recordOutcome(context(), 202, null);
    const started = Date.now();
    await audit.drain(50);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await audit.pending()).toBe(1);
  });
});
