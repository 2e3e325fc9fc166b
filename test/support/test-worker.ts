/**
 * A transfer worker in the test's own process, on a task queue of its own,
 * with the activities the test chooses, against the test stack's Temporal:
 * for driving the real workflow code through situations the real activities
 * cannot be made to produce on demand (a held publish, a reassign that keeps
 * failing). It runs the bundle `npm run build` wrote.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { temporalTracingPlugin } from '../../libs/temporal/src/workflow-tracing';
import { ROOT_DIR, testStack } from './stack';

const BUNDLE = path.join(ROOT_DIR, 'dist/workflow-bundle.js');

export interface TestWorker {
  taskQueue: string;
  /** A client of the same namespace, for starting and updating workflows on taskQueue. */
  client: Client;
  stop(): Promise<void>;
}

export async function startTestWorker(label: string, activities: object): Promise<TestWorker> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build`);
  const { temporalAddress, namespace } = testStack();
  const taskQueue = `evs-${label}-test-${randomUUID().slice(0, 8)}`;
  const workerConnection = await NativeConnection.connect({ address: temporalAddress });
  const worker = await Worker.create({
    connection: workerConnection,
    namespace,
    taskQueue,
    workflowBundle: { codePath: BUNDLE },
    activities,
    // The bundle has the tracing interceptors: their sink must exist.
    plugins: [temporalTracingPlugin()],
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: temporalAddress });
  return {
    taskQueue,
    client: new Client({ connection, namespace }),
    stop: async () => {
      worker.shutdown();
      await running;
      await workerConnection.close();
      await connection.close();
    },
  };
}
