/**
 * Checks a value against a schema of the gateway's OpenAPI document: the
 * subset of OpenAPI 3.0 schema keywords the document uses ($ref, allOf,
 * type, nullable, properties, required, additionalProperties: false, items,
 * minItems/maxItems, enum, pattern, format uuid/uri, minLength/maxLength,
 * minimum/maximum). Used by the tests to hold real responses to the
 * published contract; returns the list of violations (empty when it fits).
 */
import type { OpenAPIObject, ReferenceObject, ResponseObject, SchemaObject } from '@nestjs/swagger';

type Schema = SchemaObject | ReferenceObject;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function resolve(doc: OpenAPIObject, schema: Schema): SchemaObject {
  if ('$ref' in schema) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`unresolved ${schema.$ref}`);
    return resolve(doc, target);
  }
  return schema;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

export function checkSchema(doc: OpenAPIObject, schema: Schema, value: unknown, at = '$'): string[] {
  const s = resolve(doc, schema);
  const errors: string[] = [];
  for (const part of s.allOf ?? []) errors.push(...checkSchema(doc, part, value, at));
  if (value === null) {
    return s.nullable || s.type === undefined ? errors : [...errors, `${at}: null not allowed`];
  }
  const actual = typeOf(value);
  if (s.type !== undefined) {
    const ok = s.type === actual || (s.type === 'number' && actual === 'integer');
    if (!ok) return [...errors, `${at}: expected ${String(s.type)}, got ${actual}`];
  }
  if (s.enum && !s.enum.includes(value)) errors.push(`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(s.enum)}`);
  if (typeof value === 'string') {
    if (s.pattern && !new RegExp(s.pattern).test(value)) errors.push(`${at}: does not match ${s.pattern}`);
    if (s.format === 'uuid' && !UUID.test(value)) errors.push(`${at}: not a uuid`);
    if (s.format === 'uri' && !URL.canParse(value)) errors.push(`${at}: not a URI`);
    if (s.minLength !== undefined && value.length < s.minLength) errors.push(`${at}: shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && value.length > s.maxLength) errors.push(`${at}: longer than ${s.maxLength}`);
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) errors.push(`${at}: below ${s.minimum}`);
    if (s.maximum !== undefined && value > s.maximum) errors.push(`${at}: above ${s.maximum}`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) errors.push(`${at}: fewer than ${s.minItems} items`);
    if (s.maxItems !== undefined && value.length > s.maxItems) errors.push(`${at}: more than ${s.maxItems} items`);
    if (s.items) value.forEach((item, i) => errors.push(...checkSchema(doc, s.items!, item, `${at}[${i}]`)));
  }
  if (actual === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of s.required ?? []) if (!(key in record)) errors.push(`${at}: missing ${key}`);
    for (const [key, v] of Object.entries(record)) {
      const property = s.properties?.[key];
      if (property) errors.push(...checkSchema(doc, property, v, `${at}.${key}`));
      else if (s.additionalProperties === false) errors.push(`${at}: unexpected property ${key}`);
    }
  }
  return errors;
}

/** The documented response of an operation for a status, or null when the document has none. */
export function documentedResponse(doc: OpenAPIObject, operationId: string, status: number): ResponseObject | null {
  for (const item of Object.values(doc.paths)) {
    for (const method of ['get', 'post', 'delete'] as const) {
      const op = item[method];
      if (op?.operationId === operationId) {
        return (op.responses[String(status)] as ResponseObject | undefined) ?? null;
      }
    }
  }
  throw new Error(`no operation ${operationId}`);
}

/** Violations of the document by one real response (status, headers and body). */
export function checkResponse(
  doc: OpenAPIObject,
  operationId: string,
  response: { status: number; headers: { get(name: string): string | null }; body: unknown },
): string[] {
  const documented = documentedResponse(doc, operationId, response.status);
  if (!documented) return [`${operationId}: status ${response.status} is not documented`];
  const errors: string[] = [];
  for (const name of Object.keys(documented.headers ?? {})) {
    if (response.headers.get(name) === null) errors.push(`${operationId} ${response.status}: header ${name} missing`);
  }
  const schema = documented.content?.['application/json']?.schema;
  if (schema === undefined) {
    if (response.body !== undefined) errors.push(`${operationId} ${response.status}: documented without a body`);
    return errors;
  }
  return [...errors, ...checkSchema(doc, schema, response.body)];
}
