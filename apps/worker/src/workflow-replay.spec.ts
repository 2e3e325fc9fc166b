/**
 * Histories written by earlier versions of the transfer workflow must still
 * replay: a worker upgraded while transfers are pending picks them up from
 * their history. Each fixture is a real history exported with `temporal
 * workflow show -o json` from the version it names; replay needs no server.
 *   transfer-before-local-steps          created and accepted before the
 *                                         steps became local activities
 *   transfer-upgraded-while-pending      created before, accepted after the
 *                                         worker was upgraded (live, on a stack)
 *   transfer-before-event-outbox          created, a wrong key, accepted, each
 *                                         event published by publishEvents
 *                                         (a test worker of that version)
 *   transfer-outbox-*                     before the read-model writes carried
 *                                         their events: each event appended by
 *                                         an enqueueEvents step of its own
 *                                         (expired; a wrong key, then accepted;
 *                                         wrong keys, then deleted; from the
 *                                         end-to-end suite on a stack)
 *   transfer-marker-*                     before the revision in the workflow's
 *                                         options: one patch marker
 *                                         (expired; accepted; a wrong key, then
 *                                         accepted; deleted; from the end-to-end
 *                                         suite on a stack)
 *   transfer-revision-1-*                 started at revision 1, no marker: the
 *                                         shape new transfers have now (the same
 *                                         four endings)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { temporalTracingPlugin, WORKFLOW_TRACING_INTERCEPTOR_MODULES } from '../../../libs/temporal/src/workflow-tracing';

const FIXTURES = path.join(__dirname, '../replay-histories');

let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // As infra/scripts/bundle-workflows.ts builds it: with the tracing interceptors.
  bundle = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, '../../../workflows/index.ts'),
    workflowInterceptorModules: WORKFLOW_TRACING_INTERCEPTOR_MODULES,
    logger: new DefaultLogger('WARN'),
  });
}, 120_000);

describe('transfer workflow replay', () => {
  const fixtures = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.history.json'));

  it('has the fixtures to replay', () => {
    expect(fixtures).toEqual([
      'transfer-before-event-outbox.history.json',
      'transfer-before-local-steps.history.json',
      'transfer-marker-accepted.history.json',
      'transfer-marker-deleted.history.json',
      'transfer-marker-expired.history.json',
      'transfer-marker-wrong-key-then-accepted.history.json',
      'transfer-outbox-expired.history.json',
      'transfer-outbox-wrong-key-then-accepted.history.json',
      'transfer-outbox-wrong-keys-then-deleted.history.json',
      'transfer-revision-1-accepted.history.json',
      'transfer-revision-1-deleted.history.json',
      'transfer-revision-1-expired.history.json',
      'transfer-revision-1-wrong-key-then-accepted.history.json',
      'transfer-upgraded-while-pending.history.json',
    ]);
  });

  it.each(fixtures)('replays %s without a nondeterminism error', async (file) => {
    // The exported JSON as is: the worker reads it into a History itself.
    const history: unknown = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'));
    await expect(Worker.runReplayHistory({ workflowBundle: bundle, plugins: [temporalTracingPlugin()] }, history, file)).resolves.toBeUndefined();
  }, 60_000);
});
