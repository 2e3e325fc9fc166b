import { describe, expect, it } from 'vitest';
import { API_ACTIONS, apiAuditRecord, CLOUD_EVENT_TYPES, TOPICS } from '../../contracts/src/events';
import {
  CloudEventParseError,
  messageKey,
  parseBinaryModeMessage,
  toBinaryModeMessage,
} from './cloud-event-record';

const record = apiAuditRecord({
  requestId: 'req-7f3a',
  at: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
  action: API_ACTIONS.accept,
  actor: { projectId: 'p-dest', userId: 'u-dest' },
  pathProjectId: 'p-dest',
  target: { transferId: 't-1', volumeId: 'v-1' },
  outcome: { status: 202, code: null },
  sourceIp: '127.0.0.1',
});

describe('toBinaryModeMessage', () => {
  it('puts the attributes in ce_ headers, the data alone in the value and the disk id in the key', () => {
    const message = toBinaryModeMessage(record);

    expect(message.key).toBe('v-1');
    expect(message.headers).toEqual({
      ce_specversion: '1.0',
      ce_id: 'api/req-7f3a',
      ce_source: 'evs/transfer-service',
      ce_type: CLOUD_EVENT_TYPES.ApiCallAudited,
      ce_subject: 'transfers/t-1',
      ce_time: '2026-01-02T03:04:05.678Z',
      'content-type': 'application/json',
    });
    expect(JSON.parse(message.value)).toEqual(record.event.data);
    expect(record.topic).toBe(TOPICS.apiAudit);
  });
});

describe('parseBinaryModeMessage', () => {
  it('reads back what toBinaryModeMessage wrote, from Buffers as a consumer receives them', () => {
    const written = toBinaryModeMessage(record);
    const consumed = {
      key: Buffer.from(written.key),
      value: Buffer.from(written.value),
      headers: Object.fromEntries(Object.entries(written.headers).map(([k, v]) => [k, Buffer.from(v)])),
    };

    expect(parseBinaryModeMessage(consumed)).toEqual(record.event);
    expect(messageKey(consumed)).toBe('v-1');
  });

  it('accepts a content-type with parameters and repeated headers (first wins)', () => {
    const written = toBinaryModeMessage(record);
    const event = parseBinaryModeMessage({
      value: written.value,
      headers: { ...written.headers, 'content-type': 'application/json; charset=utf-8', ce_id: ['first', 'second'] },
    });

    expect(event.id).toBe('first');
  });

  it.each([
    ['a missing ce_id', { ce_id: undefined }, /missing header ce_id/],
    ['another spec version', { ce_specversion: '0.3' }, /unsupported ce_specversion 0.3/],
    ['a non-JSON content type', { 'content-type': 'application/avro' }, /unsupported content-type/],
  ])('refuses %s', (_case, headerChanges, message) => {
    const written = toBinaryModeMessage(record);
    const headers = { ...written.headers, ...headerChanges };

    expect(() => parseBinaryModeMessage({ value: written.value, headers })).toThrow(message);
  });

  it('refuses a value that is not JSON, or no value', () => {
    const { headers } = toBinaryModeMessage(record);

    expect(() => parseBinaryModeMessage({ value: '{not json', headers })).toThrow(CloudEventParseError);
    expect(() => parseBinaryModeMessage({ value: null, headers })).toThrow(/no value/);
  });

  it('gives a keyless message a null key', () => {
    expect(messageKey({ key: null, value: null })).toBeNull();
  });
});
