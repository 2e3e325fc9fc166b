/**
 * The OpenAPI 3.0 description of the gateway, written by hand from
 * transfer-api.md rather than generated from decorators: the contract is
 * the spec's, field for field, and strict (additionalProperties: false on
 * every body). The gateway's tests check real responses against it.
 * Served at /openapi.json, with Swagger UI at /docs.
 */
import type {
  LinkObject,
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  ReferenceObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger';
import { ERROR_CATALOGUE, type ErrorName } from '../../../../libs/domain/src/errors';
import { TRANSFER_RULES } from '../../../../libs/domain/src/disk';
import { MAX_BODY_BYTES } from '../http/json-body.interceptor';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_PATTERN,
  MAX_AUTH_KEY_CHARS,
  MAX_IDEMPOTENCY_KEY_CHARS,
  MAX_LIST_LIMIT,
  MAX_LIST_OFFSET,
  MAX_NAME_CHARS,
  NAME_PATTERN,
} from '../transfers/transfer.validation';

const ref = (name: string): ReferenceObject => ({ $ref: `#/components/schemas/${name}` });

const UUID: SchemaObject = { type: 'string', format: 'uuid' };
const CINDER_TIMESTAMP = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}$';

function strictObject(properties: Record<string, SchemaObject | ReferenceObject>, required = Object.keys(properties)): SchemaObject {
  return { type: 'object', additionalProperties: false, required, properties };
}

const RULE_ERRORS: ErrorName[] = TRANSFER_RULES.map((r) => r.error);

/**
 * Every transfer route refuses credentials it cannot check, a foreign path
 * project, and roles the policy does not allow; and answers NotFound for
 * the route itself not existing: a {version} other than v2 or v3, or a path
 * segment that is not percent-encoded UTF-8.
 */
const ACCESS_ERRORS: ErrorName[] = ['Unauthenticated', 'Forbidden', 'PolicyForbidden', 'NotFound'];

/** The errors each operation can answer, by catalogue name. */
export const OPERATION_ERRORS: Record<string, ErrorName[]> = {
  createTransfer: [
    'BadRequest',
    ...RULE_ERRORS,
    ...ACCESS_ERRORS,
    'DiskNotFound',
    'DiskAlreadyInTransfer',
    'IdempotentTransferEnded',
    'IdempotencyKeyReused',
    'Internal',
    'DependencyUnavailable',
  ],
  acceptTransfer: [
    'BadRequest',
    'InvalidAuthKey',
    'AcceptOwnTransfer',
    ...RULE_ERRORS,
    ...ACCESS_ERRORS,
    'TransferNotFound',
    'QuotaExceeded',
    'TransferBusy',
    'TooManyFailedAttempts',
    'CallerRateLimited',
    'Internal',
    'DependencyUnavailable',
  ],
  deleteTransfer: [...ACCESS_ERRORS, 'TransferNotFound', 'TransferBusy', 'Internal', 'DependencyUnavailable'],
  // 503 for every route: an identity provider whose keys cannot be fetched leaves the credentials unchecked.
  listTransfers: ['BadRequest', ...ACCESS_ERRORS, 'Internal', 'DependencyUnavailable'],
  listTransfersDetail: ['BadRequest', ...ACCESS_ERRORS, 'Internal', 'DependencyUnavailable'],
  showTransfer: [...ACCESS_ERRORS, 'TransferNotFound', 'Internal', 'DependencyUnavailable'],
  transferAction: [
    'BadRequest',
    ...ACCESS_ERRORS,
    'TransferNotFound',
    'TransferBusy',
    'TransferAlreadyAccepted',
    'Internal',
    'DependencyUnavailable',
  ],
  showVersion: ['NotFound'],
};

const REQUEST_ID_HEADER = {
  'X-Request-Id': { $ref: '#/components/headers/RequestId' },
  'X-OpenStack-Request-Id': { $ref: '#/components/headers/RequestId' },
};

function errorResponse(status: number, names: ErrorName[]): ResponseObject {
  // The schema allows every catalogue code of this status (a code is a
  // property of the error, not of the route); the description lists the ones
  // this route is known to give.
  const codes = [...new Set(Object.values(ERROR_CATALOGUE).filter((e) => e.status === status).map((e) => e.code))].sort();
  const lines = names.map((n) => `- \`${ERROR_CATALOGUE[n].code}\` (${n}): ${ERROR_CATALOGUE[n].message}`);
  return {
    description: lines.join('\n'),
    headers: {
      ...REQUEST_ID_HEADER,
      ...(status === 429 ? { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } } : {}),
    },
    content: {
      'application/json': {
        schema: {
          allOf: [ref('Error')],
          properties: { error: { type: 'object', properties: { code: { type: 'string', enum: codes } } } },
        },
      },
    },
  };
}

function errorResponses(operationId: string): Record<string, ResponseObject> {
  const byStatus = new Map<number, ErrorName[]>();
  for (const name of OPERATION_ERRORS[operationId]) {
    const status = ERROR_CATALOGUE[name].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), name]);
  }
  return Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, names]) => [String(status), errorResponse(status, names)]));
}

function ok(status: number, description: string, schema?: string): Record<string, ResponseObject> {
  return {
    [String(status)]: {
      description,
      headers: REQUEST_ID_HEADER,
      ...(schema ? { content: { 'application/json': { schema: ref(schema) } } } : {}),
    },
  };
}

const PARAMETERS: Record<string, ParameterObject> = {
  Version: {
    name: 'version',
    in: 'path',
    required: true,
    description: 'API version; v2 and v3 serve identical bodies.',
    schema: { type: 'string', enum: ['v2', 'v3'] },
  },
  ProjectId: {
    name: 'project_id',
    in: 'path',
    required: true,
    description: "The caller's project: must be the project of the credentials (else 403).",
    schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
  },
  TransferId: {
    name: 'transfer_id',
    in: 'path',
    required: true,
    description: 'The transfer id. Anything that names no pending transfer visible to the caller (including a malformed id) is answered 404.',
    schema: UUID,
  },
  Limit: {
    name: 'limit',
    in: 'query',
    required: false,
    description: 'Page size. Other query parameters are ignored.',
    schema: { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT, default: MAX_LIST_LIMIT },
  },
  Offset: {
    name: 'offset',
    in: 'query',
    required: false,
    description: 'Transfers to skip, in the order created_at ascending, then id.',
    schema: { type: 'integer', minimum: 0, maximum: MAX_LIST_OFFSET, default: 0 },
  },
  IdempotencyKey: {
    name: IDEMPOTENCY_KEY_HEADER,
    in: 'header',
    required: false,
    description:
      'Makes the create safe to retry after a lost answer. Within the project, the same key with the same body is the ' +
      'same create: the same transfer id and the same auth_key, as long as the transfer is pending (or still being ' +
      'validated, when the retry waits for the outcome like the first try). The same key with another volume_id or name ' +
      'is 422 EVS.5422; once the transfer was accepted, deleted or expired, 409 EVS.5414; a create refused at validation ' +
      'is refused the same way again (use a new key to try again). A random UUID per intended transfer is a good key. ' +
      'Without the header every create is a new transfer.',
    schema: { type: 'string', minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY_CHARS, pattern: IDEMPOTENCY_KEY_PATTERN },
  },
  AllTenants: {
    name: 'all_tenants',
    in: 'query',
    required: false,
    allowEmptyValue: true,
    description:
      "Administrators only (role `admin`, action `evs:transfers:list_all_projects`, audited): every project's pending " +
      "transfers, each link naming the transfer's own project. Yes: `1`, `true`, `yes`, `on`, `t`, `y` or no value; no: " +
      '`0`, `false`, `no`, `off`, `f`, `n` (case-insensitive). Anyone else asking for yes is refused 403, not answered ' +
      "with only their own project's transfers as Cinder would; an administrator sending anything else gets 400.",
    schema: { type: 'string' },
  },
};

const param = (name: string): ReferenceObject => ({ $ref: `#/components/parameters/${name}` });
const COLLECTION_PARAMS = [param('Version'), param('ProjectId')];
const LIST_PARAMS = [param('Limit'), param('Offset'), param('AllTenants')];
const ITEM_PARAMS = [...COLLECTION_PARAMS, param('TransferId')];

/** Where the id of a created transfer is, and the path it was created under, for OpenAPI links. */
const NEW_TRANSFER_ID = '$response.body#/transfer/id';
const SAME_COLLECTION = { version: '$request.path.version', project_id: '$request.path.project_id' };

function withLinks(responses: Record<string, ResponseObject>, links: Record<string, LinkObject>): Record<string, ResponseObject> {
  return Object.fromEntries(Object.entries(responses).map(([status, response]) => [status, { ...response, links }]));
}

function operation(op: Omit<OperationObject, 'responses'> & { operationId: string }, success: Record<string, ResponseObject>): OperationObject {
  return { tags: ['transfers'], ...op, responses: { ...success, ...errorResponses(op.operationId) } };
}

const API_DESCRIPTION = `The EVS disk transfer API: the OpenStack Cinder volume-transfer API under EVS paths.

Every request carries credentials: \`X-Auth-Token\` (a JWT naming user, project and roles), or a Huawei
AK/SK signature (\`Authorization: SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...\` with
\`X-Sdk-Date\`, as the Huawei Cloud SDKs send it; rules in docs/api.md). The \`{project_id}\` in the path must
be the credentials' project, and their roles must allow the route's action: \`reader\` may list and show,
\`member\` may also create, accept and delete, \`admin\` may also list every project's transfers
(\`all_tenants\`) and force-delete any (\`os-force_delete\`). Otherwise 403 EVS.5403. Every response carries \`X-Request-Id\` (and the same id as \`X-OpenStack-Request-Id\`). Errors are
\`{"error": {"code": "EVS.xxxx", "message": "..."}}\`; the full code table is in docs/api.md.

POST bodies are JSON objects (a missing Content-Type is read as JSON; any other type is a 400), at most
${MAX_BODY_BYTES} bytes, valid UTF-8, without a key twice in one object and without unknown keys.

A method a path does not serve is answered 405 with an \`Allow\` header (before authentication), in the
same error shape (\`EVS.5405\`). A request the HTTP parser cannot read is a 400 \`EVS.5400\`.`;

export function buildOpenApiDocument(): OpenAPIObject {
  return {
    openapi: '3.0.3',
    info: { title: 'EVS disk transfer API', version: '1.0.0', description: API_DESCRIPTION },
    servers: [{ url: '/' }],
    security: [{ authToken: [] }, { accessKeySignature: [] }],
    tags: [
      { name: 'transfers', description: 'Disk transfers between projects' },
      { name: 'versions', description: "Cinder's version discovery documents" },
      { name: 'health' },
    ],
    paths: {
      '/': {
        get: {
          tags: ['versions'],
          operationId: 'listVersions',
          summary: 'Every API version (Cinder version discovery)',
          security: [],
          responses: {
            '300': {
              description: 'Multiple Choices, as Cinder answers: v2 (deprecated, no microversions) and v3 (microversions 3.0 to 3.0).',
              headers: REQUEST_ID_HEADER,
              content: { 'application/json': { schema: ref('VersionsDocument') } },
            },
          },
        },
      },
      '/{version}/': {
        get: {
          tags: ['versions'],
          operationId: 'showVersion',
          summary: 'One API version (Cinder version discovery)',
          description: 'Answered with or without the trailing slash.',
          security: [],
          parameters: [param('Version')],
          responses: {
            '200': {
              description: 'The version alone.',
              headers: REQUEST_ID_HEADER,
              content: { 'application/json': { schema: ref('VersionsDocument') } },
            },
            ...errorResponses('showVersion'),
          },
        },
      },
      '/{version}/{project_id}/os-volume-transfer': {
        parameters: COLLECTION_PARAMS,
        post: operation(
          {
            operationId: 'createTransfer',
            summary: 'Create a transfer of a disk the project owns',
            description:
              'Answers once the disk is validated and locked for the transfer. The response is the only one that ever carries ' +
              'auth_key, except that a create retried with the same Idempotency-Key is answered the same again.',
            parameters: [param('IdempotencyKey')],
            requestBody: { required: true, content: { 'application/json': { schema: ref('CreateTransferRequest') } } },
          },
          withLinks(ok(202, 'The transfer is pending; hand id and auth_key to the recipient.', 'CreatedTransferResponse'), {
            ShowTransfer: { operationId: 'showTransfer', parameters: { ...SAME_COLLECTION, transfer_id: NEW_TRANSFER_ID } },
            DeleteTransfer: { operationId: 'deleteTransfer', parameters: { ...SAME_COLLECTION, transfer_id: NEW_TRANSFER_ID } },
            AcceptTransfer: {
              operationId: 'acceptTransfer',
              description: "By another project: its own project_id, with the auth_key of this response.",
              parameters: { version: '$request.path.version', transfer_id: NEW_TRANSFER_ID },
            },
          }),
        ),
        get: operation(
          {
            operationId: 'listTransfers',
            summary: "List the project's pending transfers (an administrator's: every project's, with all_tenants)",
            parameters: LIST_PARAMS,
          },
          ok(200, 'Pending transfers, oldest first.', 'TransferSummaryList'),
        ),
      },
      '/{version}/{project_id}/os-volume-transfer/detail': {
        parameters: COLLECTION_PARAMS,
        get: operation(
          {
            operationId: 'listTransfersDetail',
            summary: "List the project's pending transfers with details (an administrator's: every project's, with all_tenants)",
            parameters: LIST_PARAMS,
          },
          ok(200, 'Pending transfers, oldest first.', 'TransferDetailList'),
        ),
      },
      '/{version}/{project_id}/os-volume-transfer/{transfer_id}': {
        parameters: ITEM_PARAMS,
        get: operation(
          { operationId: 'showTransfer', summary: 'Show a pending transfer of the project' },
          ok(200, 'The transfer.', 'TransferDetailResponse'),
        ),
        delete: operation(
          {
            operationId: 'deleteTransfer',
            summary: 'Delete a pending transfer of the project',
            description: 'Answers once the transfer is deleted and the disk is available to its owner again. Empty body.',
          },
          ok(202, 'Deleted.'),
        ),
      },
      '/{version}/{project_id}/os-volume-transfer/{transfer_id}/accept': {
        parameters: ITEM_PARAMS,
        post: operation(
          {
            operationId: 'acceptTransfer',
            summary: "Accept another project's transfer",
            description:
              'Answers 202 once the disk belongs to the accepting project. A wrong auth_key is a 400 and counts against the transfer; after too many, attempts are refused for a while (429 with Retry-After).',
            requestBody: { required: true, content: { 'application/json': { schema: ref('AcceptTransferRequest') } } },
          },
          ok(202, 'Accepted: the disk now belongs to the accepting project.', 'TransferSummaryResponse'),
        ),
      },
      '/{version}/{project_id}/os-volume-transfer/{transfer_id}/action': {
        parameters: ITEM_PARAMS,
        post: operation(
          {
            operationId: 'transferAction',
            summary: "An administrator's action on any project's transfer: os-force_delete",
            description:
              'Administrators only (role `admin`, action `evs:transfers:force_delete`, audited); `{project_id}` is the ' +
              "administrator's own project, `{transfer_id}` a transfer of any project, pending or stuck moving its disk " +
              'to an acceptor. Answers once the transfer is deleted and the disk is its owner\'s again, unlocked; the ' +
              'lifecycle event `deleted` names the administrator (`forced: true`). If the accept it cut short had in ' +
              'fact moved the disk, the transfer ends accepted and the answer is 409 EVS.5412. A deletion or expiry ' +
              'already under way is 409 EVS.5410. Empty body on success.',
            requestBody: { required: true, content: { 'application/json': { schema: ref('TransferActionRequest') } } },
          },
          ok(202, 'Force-deleted: the disk belongs to its owner again, unlocked.'),
        ),
      },
      '/healthz': {
        get: {
          tags: ['health'],
          operationId: 'health',
          summary: 'Liveness',
          security: [],
          responses: {
            '200': {
              description: 'The gateway is up.',
              headers: REQUEST_ID_HEADER,
              content: { 'application/json': { schema: ref('Health') } },
            },
          },
        },
      },
    },
    components: {
      securitySchemes: {
        authToken: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Auth-Token',
          description: "A signed JWT: the local issuer's (EdDSA), or a configured OpenID Connect provider's (JWKS).",
        },
        accessKeySignature: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            'Huawei AK/SK request signing: SDK-HMAC-SHA256 Access=<access key>, SignedHeaders=<names>, Signature=<hex>, with X-Sdk-Date (host and x-sdk-date signed). See docs/api.md.',
        },
      },
      headers: {
        RequestId: {
          description: 'Generated by the gateway for every request: req-<uuid>.',
          schema: { type: 'string', pattern: '^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' },
        },
        RetryAfter: { description: 'Seconds until accept attempts are taken again.', schema: { type: 'integer', minimum: 1 } },
      },
      parameters: PARAMETERS,
      schemas: {
        Link: strictObject({
          href: { type: 'string', format: 'uri' },
          rel: { type: 'string', enum: ['self', 'bookmark'] },
        }),
        Links: {
          type: 'array',
          minItems: 2,
          maxItems: 2,
          description: 'self: <base>/<version>/<project_id>/os-volume-transfer/<id>; bookmark: <base>/<project_id>/os-volume-transfer/<id>.',
          items: ref('Link'),
        },
        TransferSummary: strictObject({
          id: UUID,
          name: { type: 'string', nullable: true },
          volume_id: UUID,
          links: ref('Links'),
        }),
        TransferDetail: strictObject({
          id: UUID,
          name: { type: 'string', nullable: true },
          volume_id: UUID,
          created_at: { type: 'string', pattern: CINDER_TIMESTAMP, description: 'UTC, microseconds, no zone suffix.' },
          links: ref('Links'),
        }),
        CreatedTransfer: strictObject({
          id: UUID,
          name: { type: 'string', nullable: true },
          volume_id: UUID,
          auth_key: { type: 'string', pattern: '^[0-9a-f]{16}$', description: 'Shown once; never again.' },
          created_at: { type: 'string', pattern: CINDER_TIMESTAMP, description: 'UTC, microseconds, no zone suffix.' },
          links: ref('Links'),
        }),
        CreatedTransferResponse: strictObject({ transfer: ref('CreatedTransfer') }),
        TransferSummaryResponse: strictObject({ transfer: ref('TransferSummary') }),
        TransferDetailResponse: strictObject({ transfer: ref('TransferDetail') }),
        TransferSummaryList: strictObject({ transfers: { type: 'array', items: ref('TransferSummary') } }),
        TransferDetailList: strictObject({ transfers: { type: 'array', items: ref('TransferDetail') } }),
        CreateTransferRequest: strictObject({
          transfer: strictObject(
            {
              volume_id: UUID,
              name: {
                type: 'string',
                nullable: true,
                minLength: 1,
                maxLength: MAX_NAME_CHARS,
                pattern: NAME_PATTERN,
                description: `At most ${MAX_NAME_CHARS} characters as sent, not blank, no control characters; stored trimmed.`,
              },
            },
            ['volume_id'],
          ),
        }),
        AcceptTransferRequest: strictObject({
          accept: strictObject({ auth_key: { type: 'string', minLength: 1, maxLength: MAX_AUTH_KEY_CHARS } }),
        }),
        TransferActionRequest: strictObject({
          'os-force_delete': { ...strictObject({}, []), nullable: true, description: '{} or null (as python-cinderclient sends it).' },
        }),
        Error: strictObject({
          error: strictObject({ code: { type: 'string', pattern: '^EVS\\.[0-9]{4}$' }, message: { type: 'string' } }),
        }),
        Health: strictObject({ status: { type: 'string', enum: ['ok'] } }),
        VersionLink: strictObject(
          {
            rel: { type: 'string', enum: ['describedby', 'self'] },
            href: { type: 'string', format: 'uri' },
            type: { type: 'string', enum: ['text/html'] },
          },
          ['rel', 'href'],
        ),
        VersionEntry: strictObject({
          id: { type: 'string', enum: ['v2.0', 'v3.0'] },
          status: { type: 'string', enum: ['DEPRECATED', 'CURRENT'] },
          version: { type: 'string', description: "Highest microversion ('' for v2)." },
          min_version: { type: 'string', description: "Lowest microversion ('' for v2)." },
          updated: { type: 'string' },
          links: { type: 'array', items: ref('VersionLink') },
          'media-types': {
            type: 'array',
            items: strictObject({ base: { type: 'string', enum: ['application/json'] }, type: { type: 'string' } }),
          },
        }),
        VersionsDocument: strictObject({ versions: { type: 'array', minItems: 1, items: ref('VersionEntry') } }),
      },
    },
  };
}
