/**
 * CloudEvents 1.0 in Kafka's *binary* content mode: the record value is the
 * event's data alone (JSON), every other attribute travels as a `ce_`
 * header, and `content-type` carries datacontenttype. Consumers can route
 * and filter on headers without parsing the payload. Pure functions.
 */
import type { IHeaders } from 'kafkajs';
import type { CloudEvent, OutgoingRecord } from '../../contracts/src/events';

export const CLOUD_EVENT_HEADERS = {
  specversion: 'ce_specversion',
  id: 'ce_id',
  source: 'ce_source',
  type: 'ce_type',
  subject: 'ce_subject',
  time: 'ce_time',
} as const;
export const CONTENT_TYPE_HEADER = 'content-type';
const JSON_CONTENT_TYPE = 'application/json';

/** A record ready for KafkaJS's producer, headers and value as strings. */
export interface BinaryModeMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** The fields of a consumed message that parsing reads (KafkaJS's KafkaMessage fits). */
export interface ConsumedMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: IHeaders;
}

export class CloudEventParseError extends Error {
  override readonly name = 'CloudEventParseError';
}

/** `trace`: the sender's trace context headers (record-trace.ts), added as they are. */
export function toBinaryModeMessage(record: OutgoingRecord, trace: Record<string, string> = {}): BinaryModeMessage {
  const { event } = record;
  return {
    key: record.key,
    value: JSON.stringify(event.data ?? null),
    headers: {
      ...trace,
      [CLOUD_EVENT_HEADERS.specversion]: event.specversion,
      [CLOUD_EVENT_HEADERS.id]: event.id,
      [CLOUD_EVENT_HEADERS.source]: event.source,
      [CLOUD_EVENT_HEADERS.type]: event.type,
      [CLOUD_EVENT_HEADERS.subject]: event.subject,
      [CLOUD_EVENT_HEADERS.time]: event.time,
      [CONTENT_TYPE_HEADER]: event.datacontenttype,
    },
  };
}

function text(value: Buffer | string | (Buffer | string)[] | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}

function requiredHeader(headers: IHeaders, name: string): string {
  const value = text(headers[name]);
  if (value === undefined || value === '') {
    throw new CloudEventParseError(`missing header ${name}`);
  }
  return value;
}

/** Reads a binary-mode message back into a CloudEvent; throws CloudEventParseError on anything else. */
export function parseBinaryModeMessage<T = unknown>(message: ConsumedMessage): CloudEvent<T> {
  const headers = message.headers ?? {};
  const specversion = requiredHeader(headers, CLOUD_EVENT_HEADERS.specversion);
  if (specversion !== '1.0') {
    throw new CloudEventParseError(`unsupported ce_specversion ${specversion}`);
  }
  const contentType = requiredHeader(headers, CONTENT_TYPE_HEADER);
  if (contentType.split(';')[0]?.trim().toLowerCase() !== JSON_CONTENT_TYPE) {
    throw new CloudEventParseError(`unsupported content-type ${contentType}`);
  }
  const body = text(message.value);
  if (body === undefined) {
    throw new CloudEventParseError('message has no value');
  }
  let data: T;
  try {
    data = JSON.parse(body) as T;
  } catch (error) {
    throw new CloudEventParseError(`value is not JSON: ${(error as Error).message}`);
  }
  return {
    specversion: '1.0',
    id: requiredHeader(headers, CLOUD_EVENT_HEADERS.id),
    source: requiredHeader(headers, CLOUD_EVENT_HEADERS.source),
    type: requiredHeader(headers, CLOUD_EVENT_HEADERS.type),
    subject: requiredHeader(headers, CLOUD_EVENT_HEADERS.subject),
    time: requiredHeader(headers, CLOUD_EVENT_HEADERS.time),
    datacontenttype: JSON_CONTENT_TYPE,
    data,
  };
}

/** The record key as text, or null for a keyless record. */
export function messageKey(message: ConsumedMessage): string | null {
  return text(message.key) ?? null;
}
