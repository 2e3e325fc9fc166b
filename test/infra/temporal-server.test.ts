/**
 * The Temporal server infra/temporal.sh starts: reachable at the test
 * stack's address, namespace present, and every search attribute the
 * workflows set registered with the type libs/temporal declares.
 */
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../../libs/temporal/src/transfer.definitions';
import { testStack } from '../support/stack';

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
});
