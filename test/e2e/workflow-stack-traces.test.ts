/**
 * The worker runs its workflows without the SDK's per-promise stack traces
 * unless WORKER_WORKFLOW_STACK_TRACES asks for them (the test stack does not):
 * the stack-trace query says so, and the transfer is unaffected.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { transferViewQuery, transferWorkflowId } from '../../libs/temporal/src/transfer.definitions';
import { testStack } from '../support/stack';
import { Tenant } from '../support/tenants';

/** The SDK's built-in query behind the Web UI's "Stack Trace" tab and `temporal workflow stack`. */
const STACK_TRACE_QUERY = '__stack_trace';

let connection: Connection;
let temporal: Client;

beforeAll(async () => {
  const stack = testStack();
  connection = await Connection.connect({ address: stack.temporalAddress });
  temporal = new Client({ connection, namespace: stack.namespace });
});

afterAll(async () => {
  await connection?.close();
});

it('answers the stack-trace query with "not enabled" and still runs the transfer to its end', async () => {
  const a = await Tenant.create('stacks-a');
  const b = await Tenant.create('stacks-b');
  const { disk, transfer } = await a.pendingTransfer();
  const workflow = temporal.workflow.getHandle(transferWorkflowId(transfer.id));

  await expect(workflow.query(STACK_TRACE_QUERY)).rejects.toThrow(/stack traces are not enabled/i);
  expect((await workflow.query(transferViewQuery)).status).toBe('pending');

  const accepted = await b.acceptTransfer(transfer.id, transfer.auth_key);
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  expect((await b.disk(disk.id))?.status).toBe('available');
});
