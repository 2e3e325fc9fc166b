import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinkObject, OpenAPIObject, ReferenceObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, type ErrorName } from '../../../../libs/domain/src/errors';
import { parseCreateTransfer, parseIdempotencyKey } from '../transfers/transfer.validation';
import { buildOpenApiDocument, OPERATION_ERRORS } from './openapi.document';

const API_MD = path.resolve(__dirname, '../../../../docs/api.md');

describe('docs/api.md', () => {
  const text = fs.readFileSync(API_MD, 'utf8');
  const rows = text.split('\n').filter((line) => /^\| [0-9]{3} \| EVS\./.test(line));

  it.each(Object.entries(ERROR_CATALOGUE) as [ErrorName, (typeof ERROR_CATALOGUE)[ErrorName]][])(
    'has the row of %s with its status, code and message',
    (name, entry) => {
      expect(rows).toContain(`| ${entry.status} | ${entry.code} | ${name} | ${entry.message} |`);
    },
  );

  it('has no row the catalogue does not have', () => {
    expect(rows).toHaveLength(Object.keys(ERROR_CATALOGUE).length);
  });
});

describe('the OpenAPI document', () => {
  const doc: OpenAPIObject = buildOpenApiDocument();

  it('resolves every $ref', () => {
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node !== null && typeof node === 'object') {
        const ref = (node as ReferenceObject).$ref;
        if (typeof ref === 'string') refs.push(ref);
        Object.values(node).forEach(walk);
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const [, section, name] = /^#\/components\/([a-zA-Z]+)\/(.+)$/.exec(ref) ?? [];
      expect((doc.components as Record<string, Record<string, unknown>>)[section]?.[name], ref).toBeDefined();
    }
  });

  it('documents every route for both versions through the {version} parameter', () => {
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/',
      '/healthz',
      '/{version}/',
      '/{version}/{project_id}/os-volume-transfer',
      '/{version}/{project_id}/os-volume-transfer/detail',
      '/{version}/{project_id}/os-volume-transfer/{transfer_id}',
      '/{version}/{project_id}/os-volume-transfer/{transfer_id}/accept',
      '/{version}/{project_id}/os-volume-transfer/{transfer_id}/action',
    ]);
    expect(doc.components?.parameters?.Version).toMatchObject({ schema: { enum: ['v2', 'v3'] } });
  });

  it('gives every operation its success and each error status it can answer', () => {
    const expected: Record<string, string[]> = {
      createTransfer: ['202', '400', '401', '403', '404', '409', '422', '500', '503'],
      acceptTransfer: ['202', '400', '401', '403', '404', '409', '413', '429', '500', '503'],
      deleteTransfer: ['202', '401', '403', '404', '409', '500', '503'],
      listTransfers: ['200', '400', '401', '403', '404', '500', '503'],
      listTransfersDetail: ['200', '400', '401', '403', '404', '500', '503'],
      showTransfer: ['200', '401', '403', '404', '500', '503'],
      transferAction: ['202', '400', '401', '403', '404', '409', '500', '503'],
    };
    for (const item of Object.values(doc.paths)) {
      for (const op of [item.get, item.post, item.delete]) {
        if (!op?.operationId || ['health', 'listVersions', 'showVersion'].includes(op.operationId)) continue;
        expect(Object.keys(op.responses).sort(), op.operationId).toEqual(expected[op.operationId]);
        expect(OPERATION_ERRORS[op.operationId]).toBeDefined();
      }
    }
    expect(Object.keys(doc.paths['/{version}/'].get!.responses).sort()).toEqual(['200', '404']);
  });

  it('links a created transfer to the operations that take its id, by operations that exist', () => {
    const created = doc.paths['/{version}/{project_id}/os-volume-transfer'].post!.responses['202'] as ResponseObject;
    const operationIds = Object.values(doc.paths).flatMap((item) => [item.get, item.post, item.delete].map((op) => op?.operationId));
    const links = Object.values(created.links ?? {}) as LinkObject[];
    expect(links.map((l) => l.operationId).sort()).toEqual(['acceptTransfer', 'deleteTransfer', 'showTransfer']);
    for (const link of links) {
      expect(operationIds).toContain(link.operationId);
      expect(link.parameters).toMatchObject({ transfer_id: '$response.body#/transfer/id' });
    }
  });

  it('publishes the Idempotency-Key rule the gateway applies', () => {
    const header = doc.components!.parameters!.IdempotencyKey as { name: string; in: string; schema: SchemaObject };
    expect(header).toMatchObject({ name: 'Idempotency-Key', in: 'header' });
    const pattern = new RegExp(header.schema.pattern!);
    const cases: [string, boolean][] = [
      ['8e03978e-40d5-43e8-bc93-6894a57f9324', true],
      ['a', true],
      ['inner space', true],
      ['~'.repeat(255), true],
      ['~'.repeat(256), false],
      ['', false],
      [' lead', false],
      ['trail ', false],
      ['tab\there', false],
      ['ümlaut', false],
    ];
    for (const [value, valid] of cases) {
      expect(pattern.test(value) && value.length <= header.schema.maxLength!, JSON.stringify(value)).toBe(valid);
      const parsed = (() => {
        try {
          return parseIdempotencyKey([value]) === value;
        } catch {
          return false;
        }
      })();
      expect(parsed, JSON.stringify(value)).toBe(valid);
    }
  });

  it('publishes the name rule the gateway applies', () => {
    const schema = (doc.components!.schemas!.CreateTransferRequest as SchemaObject).properties!.transfer as SchemaObject;
    const name = schema.properties!.name as SchemaObject;
    const pattern = new RegExp(name.pattern!);
    const cases: [string, boolean][] = [
      ['to team B', true],
      ['  padded  ', true],
      ['データ', true],
      ['', false],
      ['   ', false],
      ['\u3000\u00a0\ufeff', false],
      ['tab\there', false],
      ['bell\u0007', false],
      ['c1\u009b', false],
    ];
    for (const [value, valid] of cases) {
      expect(pattern.test(value), JSON.stringify(value)).toBe(valid);
      const parsed = (() => {
        try {
          parseCreateTransfer({ transfer: { volume_id: '5b0e3ac5-6d6e-4d1b-9c1e-0d8a8a0b5d4e', name: value } });
          return true;
        } catch {
          return false;
        }
      })();
      expect(parsed, JSON.stringify(value)).toBe(valid);
    }
  });
});
