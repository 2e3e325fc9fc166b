/**
 * The Temporal server infra/temporal.sh starts: reachable at the test
 * stack's address, namespace present, every search attribute the
 * workflows set registered with the type libs/temporal declares, and
 * those attributes served from the server's cache rather than read from
 * its database on every use (the CLI's dev server defaults to the latter).
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTE_REGISTRATIONS, SEARCH_ATTRIBUTES } from '../../libs/temporal/src/transfer.definitions';
import { testEnv, testStack } from '../support/stack';
import { eventually } from '../support/tenants';

const stack = testStack();

describe('Temporal test server', () => {
  let connection: Connection;

  beforeAll(async () => {
    connection = await Connection.connect({ address: stack.temporalAddress });
  });

  afterAll(async () => {
    await connection.close();
  });

  it('serves the namespace with the search attributes registered', async () => {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: stack.namespace });
    const registered = Object.keys(customAttributes ?? {});

    for (const line of SEARCH_ATTRIBUTE_REGISTRATIONS) {
      expect(registered).toContain(line.split('=')[0]);
    }
  });

  const env = testEnv();
  const metricsPort = Number(env.TEMPORAL_METRICS_PORT ?? 0);
  // The cache is a setting of the dev server infra/temporal.sh starts; a server of the user's (TEMPORAL_ADDRESS) keeps its own.
  const ownDevServer = metricsPort > 0 && env.EVS_TEMPORAL_EXTERNAL !== '1';

  /**
   * The server's reads of its cluster metadata (where it keeps the search attributes' definitions),
   * all services summed. The server publishes its counters about once a second: this waits that out.
   */
  async function clusterMetadataReads(): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    let reads = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('persistence_requests{') && line.includes('operation="GetCurrentClusterMetadata"')) reads += Number(line.split(' ').pop());
    }
    return reads;
  }

  it.skipIf(!ownDevServer)('serves search attributes from its cache, not its database, as workflows start and are listed', async () => {
    const client = new Client({ connection, namespace: stack.namespace });
    // Nothing polls this queue: the workflows only start, show in visibility and are terminated.
    const taskQueue = `evs-search-attribute-cache-${randomUUID()}`;
    const before = await clusterMetadataReads();
    const handles = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        client.workflow.start('searchAttributeProbe', {
          taskQueue,
          workflowId: `${taskQueue}-${i}`,
          typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.state, value: 'pending' }],
        }),
      ),
    );
    try {
      await eventually(async () => ((await client.workflow.count(`TaskQueue = '${taskQueue}' AND EvsTransferState = 'pending'`)).count === 10 ? true : null), 20_000);
      // Re-reading on every use took one or more reads per start, per visibility write and per query;
      // cached, the server reads again about once a minute per service, whatever the load.
      expect((await clusterMetadataReads()) - before).toBeLessThan(10);
    } finally {
      await Promise.all(handles.map((handle) => handle.terminate('test over').catch(() => undefined)));
    }
  });
});
