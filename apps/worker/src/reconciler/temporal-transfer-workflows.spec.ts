import { defaultPayloadConverter, TypedSearchAttributes } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES, transferWorkflowId } from '../../../../libs/temporal/src/transfer.definitions';
import { listedPendingTransfer, observationOf, runStatusOf } from './temporal-transfer-workflows';

const T = '0b9d7c1a-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

describe('what the reconciler reads from Temporal', () => {
  it('counts only the plainly closed statuses as closed, and everything else as running', () => {
    expect(['COMPLETED', 'FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED'].map(runStatusOf)).toEqual([
      'completed',
      'failed',
      'terminated',
      'timed_out',
      'canceled',
    ]);
    for (const other of ['RUNNING', 'PAUSED', 'CONTINUED_AS_NEW', 'UNSPECIFIED', 'UNKNOWN', 'SOMETHING_NEWER']) {
      expect(runStatusOf(other)).toBe('running');
    }
  });

  it('takes the transfer’s facts from its search attributes, and a state it does not know as none', () => {
    const attributes = new TypedSearchAttributes([
      { key: SEARCH_ATTRIBUTES.state, value: 'accepted' },
      { key: SEARCH_ATTRIBUTES.diskId, value: 'd1' },
      { key: SEARCH_ATTRIBUTES.sourceProjectId, value: 'project-a' },
      { key: SEARCH_ATTRIBUTES.destinationProjectId, value: 'project-b' },
    ]);
    expect(observationOf('COMPLETED', attributes)).toEqual({
      found: true,
      run: 'completed',
      state: 'accepted',
      diskId: 'd1',
      sourceProjectId: 'project-a',
      destinationProjectId: 'project-b',
    });
    const odd = new TypedSearchAttributes([{ key: SEARCH_ATTRIBUTES.state, value: 'half-done' }]);
    expect(observationOf('RUNNING', odd)).toMatchObject({ state: null, diskId: null, sourceProjectId: null });
  });

  it('lists a pending transfer from a raw visibility entry, and skips one without the attributes that say what it moves', () => {
    const field = (value: string) => defaultPayloadConverter.toPayload(value);
    const entry = (fields: Record<string, string>, workflowId = transferWorkflowId(T)) => ({
      execution: { workflowId },
      searchAttributes: { indexedFields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, field(v)])) },
    });
    const all = {
      [SEARCH_ATTRIBUTES.transferId.name]: T,
      [SEARCH_ATTRIBUTES.diskId.name]: 'd1',
      [SEARCH_ATTRIBUTES.sourceProjectId.name]: 'project-a',
    };
    expect(listedPendingTransfer(entry(all))).toEqual({ transferId: T, diskId: 'd1', sourceProjectId: 'project-a' });
    const withoutDisk = Object.fromEntries(Object.entries(all).filter(([name]) => name !== SEARCH_ATTRIBUTES.diskId.name));
    expect(listedPendingTransfer(entry(withoutDisk))).toBeNull();
    expect(listedPendingTransfer(entry(all, 'some-other-workflow'))).toBeNull();
    expect(listedPendingTransfer({ execution: { workflowId: transferWorkflowId(T) } })).toBeNull();
  });
});
