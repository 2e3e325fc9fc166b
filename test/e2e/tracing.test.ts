/**
 * One trace per request, across every process, on the real stack: the
 * gateway's HTTP span, the Temporal client call, the workflow and its
 * activities (Temporal's interceptors), the inventory call on both sides,
 * the event's step into the worker's outbox, and billing's and audit's
 * processing of the record, which carries the trace of that step to Kafka
 * (the relay's send span is the kicking step's when it is the one that set
 * the relay going, and another's when a batch was already on its way).
 *
 * The requests carry a sampled W3C traceparent of the test's own making; the
 * test stack records only such requests (infra/env/test.env) and exports
 * them to the OTLP receiver the run started (test/support/otlp-receiver.ts).
 * A tree is whole when every span's parent is in it, but for the root, whose
 * parent is the test's own span.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/consumer-process';
import { receivedTrace, type ReceivedSpan } from '../support/otlp-receiver';
import { ROOT_DIR, testEnv, testStack } from '../support/stack';
import { eventually, Tenant } from '../support/tenants';

const receiverUrl = `http://127.0.0.1:${testEnv().TEST_OTLP_PORT}`;

const SPAN_KIND = { server: 2, client: 3, producer: 4, consumer: 5 } as const;

interface CallerSpan {
  traceId: string;
  spanId: string;
  traceparent: string;
}

function callerSpan(): CallerSpan {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** Spans whose parent is neither in the trace nor the caller's span. */
function orphans(spans: ReceivedSpan[], caller: CallerSpan): ReceivedSpan[] {
  const ids = new Set(spans.map((s) => s.spanId));
  return spans.filter((s) => s.parentSpanId !== caller.spanId && !ids.has(s.parentSpanId));
}

/** The trace once it has every part named and (unless told otherwise) no span is waiting for its parent to arrive. */
async function wholeTrace(caller: CallerSpan, parts: ((spans: ReceivedSpan[]) => boolean)[], whole = true): Promise<ReceivedSpan[]> {
  let last: ReceivedSpan[] = [];
  try {
    return await eventually(async () => {
      last = await receivedTrace(receiverUrl, caller.traceId);
      return parts.every((part) => part(last)) && (!whole || orphans(last, caller).length === 0) ? last : null;
    }, 30_000);
  } catch (error) {
    const seen = last.map((s) => `${s.service}: ${s.name} (${s.spanId} <- ${s.parentSpanId || 'root'})`).join('\n  ');
    throw new Error(`${(error as Error).message}; the trace so far:\n  ${seen}`);
  }
}

const has = (service: string, name: RegExp | string, kind?: number) => (spans: ReceivedSpan[]) =>
  spans.some((s) => s.service === service && (typeof name === 'string' ? s.name === name : name.test(s.name)) && (kind === undefined || s.kind === kind));

/** The tree as indented lines, children in the order they arrived: for the failure message and the docs. */
function render(spans: ReceivedSpan[], caller: CallerSpan): string {
  const children = new Map<string, ReceivedSpan[]>();
  for (const span of spans) children.set(span.parentSpanId, [...(children.get(span.parentSpanId) ?? []), span]);
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      lines.push(`${'  '.repeat(depth)}${span.service}: ${span.name}`);
      walk(span.spanId, depth + 1);
    }
  };
  walk(caller.spanId, 0);
  return lines.join('\n');
}

function expectOneTree(spans: ReceivedSpan[], caller: CallerSpan): void {
  expect(orphans(spans, caller), render(spans, caller)).toEqual([]);
  // The gateway's request span alone continues the caller's.
  const roots = spans.filter((s) => s.parentSpanId === caller.spanId);
  expect(roots.map((s) => `${s.service}: ${s.name}`)).toEqual([expect.stringMatching(/^evs-gateway: (POST|DELETE) \/v2\//)]);
  expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([caller.traceId]));
}

/**
 * Runs `use` against a gateway of its own beside the test stack's (the port `offset` above the
 * stack's gateway), with `env` over the test settings; stops it afterwards whatever happened.
 */
async function withOwnGateway(offset: number, env: Record<string, string>, use: (url: string) => Promise<void>): Promise<void> {
  const port = Number(new URL(testStack().gatewayUrl).port) + offset;
  const gateway = spawn('node', ['dist/apps/gateway/src/main.js'], {
    cwd: ROOT_DIR,
    env: testEnv({ GATEWAY_PORT: String(port), LOG_LEVEL: 'warn', ...env }),
    stdio: 'ignore',
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${url}/healthz`)).ok, 30_000);
    await use(url);
  } finally {
    const exited = new Promise((r) => gateway.once('exit', r));
    gateway.kill('SIGTERM');
    await exited;
  }
}

describe('one trace per request, across every process', () => {
  it('a create: gateway → the workflow → its lock step → the inventory → the created event → billing and audit; whole once the transfer ends', async () => {
    const owner = await Tenant.create('trace-a');
    const disk = await owner.createDisk();
    const caller = callerSpan();
    const created = await owner.api('POST', owner.transfers(), { transfer: { volume_id: disk.id, name: 'traced' } }, { traceparent: caller.traceparent });
    expect(created.status).toBe(202);
    const createParts = [
      has('evs-gateway', 'POST /v2/{projectId}/os-volume-transfer', SPAN_KIND.server),
      has('evs-gateway', /^UpdateWithStartWorkflow:/),
      has('evs-worker', 'RunActivity:lockDiskForTransfer'),
      has('evs-worker', 'POST /internal/v1/disks/{disk_id}/transfer-lock', SPAN_KIND.client),
      has('evs-inventory', 'POST /internal/v1/disks/{disk_id}/transfer-lock', SPAN_KIND.server),
      // Scheduled after the lock's answer, in a later activation of the workflow: its trace
      // context outlived the wait (idle-trace-context.ts disables it in between).
      // The created event rides with the pending row, appended in the same step's transaction.
      has('evs-worker', 'RunActivity:recordTransferPending'),
      has('evs-billing', /^process /, SPAN_KIND.consumer),
      has('evs-audit', /^process /, SPAN_KIND.consumer),
    ];
    // The workflow's own span lasts as long as the transfer, and is exported when it ends:
    // until then the steps under it wait for their parent.
    const pendingTrace = await wholeTrace(caller, createParts, false);
    expect(pendingTrace.filter((s) => s.name === 'RunWorkflow:transferWorkflow')).toEqual([]);

    const deleter = callerSpan();
    const deleted = await owner.api('DELETE', `${owner.transfers()}/${created.body.transfer.id}`, undefined, { traceparent: deleter.traceparent });
    expect(deleted.status).toBe(202);

    const spans = await wholeTrace(caller, [...createParts, has('evs-worker', 'RunWorkflow:transferWorkflow')]);
    expectOneTree(spans, caller);
    // The inventory's span is a child of the worker's call, not a sibling.
    const call = spans.find((s) => s.service === 'evs-worker' && s.kind === SPAN_KIND.client && s.name.includes('transfer-lock'));
    const served = spans.find((s) => s.service === 'evs-inventory' && s.kind === SPAN_KIND.server);
    expect(served?.parentSpanId).toBe(call?.spanId);
    // Route templates, never the ids, name the spans.
    expect(spans.filter((s) => s.name.includes(disk.id) || s.name.includes(owner.projectId))).toEqual([]);

    // The delete is a trace of its own: the disk's release and the deleted event in it.
    const deletion = await wholeTrace(deleter, [
      has('evs-gateway', 'DELETE /v2/{projectId}/os-volume-transfer/{transferId}', SPAN_KIND.server),
      has('evs-worker', /^HandleUpdate:/),
      has('evs-worker', 'RunActivity:releaseDiskTransferLock'),
      has('evs-inventory', 'POST /internal/v1/disks/{disk_id}/transfer-lock/release', SPAN_KIND.server),
      has('evs-worker', 'RunActivity:recordTransferEnded'),
      has('evs-billing', /^process /, SPAN_KIND.consumer),
    ]);
    expectOneTree(deletion, deleter);
  });

  it('an accept: gateway → the update → the disk’s move at the inventory → the accepted event → billing and audit', async () => {
    const owner = await Tenant.create('trace-a');
    const recipient = await Tenant.create('trace-b');
    const { transfer } = await owner.pendingTransfer();
    const caller = callerSpan();
    const accepted = await recipient.api(
      'POST',
      `${recipient.transfers()}/${transfer.id}/accept`,
      { accept: { auth_key: transfer.auth_key } },
      { traceparent: caller.traceparent },
    );
    expect(accepted.status).toBe(202);

    const spans = await wholeTrace(caller, [
      has('evs-gateway', 'POST /v2/{projectId}/os-volume-transfer/{transferId}/accept', SPAN_KIND.server),
      has('evs-worker', /^HandleUpdate:/),
      has('evs-worker', 'RunActivity:reassignDisk'),
      has('evs-inventory', 'POST /internal/v1/disks/{disk_id}/reassign', SPAN_KIND.server),
      has('evs-worker', 'RunActivity:recordTransferEnded'),
      has('evs-billing', /^process /, SPAN_KIND.consumer),
      has('evs-audit', /^process /, SPAN_KIND.consumer),
    ]);
    expectOneTree(spans, caller);
    // The create's steps are in the create's trace, not in this one.
    expect(spans.filter((s) => s.name === 'RunActivity:lockDiskForTransfer')).toEqual([]);
  });

  it('an expiry: the create’s trace goes on when the transfer’s timer fires, through the disk’s release to the expired event', async () => {
    // A gateway whose transfers live 3 s; the rest is the test stack's.
    await withOwnGateway(12, { TRANSFER_TTL_SECONDS: '3' }, async (url) => {
      const owner = (await Tenant.create('trace-x')).via(url);
      const disk = await owner.createDisk();
      const caller = callerSpan();
      const created = await owner.api('POST', owner.transfers(), { transfer: { volume_id: disk.id, name: 'expiring' } }, { traceparent: caller.traceparent });
      expect(created.status).toBe(202);
      // Nothing but the timer wakes the workflow: the steps after it find the run's trace
      // again only if the workflow's context survived the wait (libs/temporal/src/idle-trace-context.ts).
      const spans = await wholeTrace(caller, [
        has('evs-worker', 'RunActivity:releaseDiskTransferLock'),
        has('evs-inventory', 'POST /internal/v1/disks/{disk_id}/transfer-lock/release', SPAN_KIND.server),
        has('evs-worker', 'RunActivity:recordTransferEnded'),
        (all) => all.filter((s) => s.service === 'evs-billing' && s.kind === SPAN_KIND.consumer).length >= 2,
        has('evs-worker', 'RunWorkflow:transferWorkflow'),
      ]);
      expectOneTree(spans, caller);
    });
  });

  it('a collector that takes connections and never answers slows no API call and fails none', async () => {
    // A black hole: it accepts, reads and never replies, the worst a collector can do.
    const sockets: Socket[] = [];
    const blackHole = createServer((socket) => {
      sockets.push(socket);
      socket.resume();
    });
    const collectorPort = await freePort();
    await new Promise<void>((resolve) => blackHole.listen(collectorPort, '127.0.0.1', resolve));
    const collector = {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    };
    try {
      await withOwnGateway(11, collector, async (url) => {
        const owner = (await Tenant.create('trace-hole')).via(url);
        const slowest: number[] = [];
        for (let i = 0; i < 5; i += 1) {
          const started = Date.now();
          const { transfer } = await owner.pendingTransfer();
          expect((await owner.showTransfer(transfer.id)).status).toBe(200);
          expect((await owner.deleteTransfer(transfer.id)).status).toBe(202);
          slowest.push(Date.now() - started);
        }
        // Spans did leave for the collector (it holds their connections), and none of the calls waited on them:
        // the exporter's own timeout is 10 s, so a call that waited would take that long.
        expect(sockets.length).toBeGreaterThan(0);
        expect(Math.max(...slowest)).toBeLessThan(5000);
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      blackHole.close();
    }
  });
});
