/**
 * Requests signed by the official Huawei Cloud SDK, for unit tests of the
 * verifier: what arrived at a server (headers as Node names them) and the
 * key that signed them.
 *
 * Produced with huaweicloudsdkcore 3.1.219 (pip install
 * huaweicloudsdkcore==3.1.219) by giving its own Signer a request with a
 * fixed X-Sdk-Date (the signer keeps a date it is given) and reading back the
 * Authorization header and the URI it sends:
 *
 *   from urllib.parse import quote
 *   from huaweicloudsdkcore.auth.credentials import BasicCredentials
 *   from huaweicloudsdkcore.sdk_request import SdkRequest
 *   from huaweicloudsdkcore.signer.signer import Signer
 *   cred = BasicCredentials(ACCESS_KEY, SECRET_KEY, 'project-a')
 *   def sign(method, path, query, headers, body):
 *       r = SdkRequest(method=method, schema='http', host='127.0.0.1:31080', resource_path=path,
 *                      query_params=query, header_params=dict(headers), body=body)
 *       Signer(cred).sign(r)
 *       return r.uri, r.header_params
 *   sign('POST', '/v2/project-a/os-volume-transfer', [],
 *        {'Content-Type': 'application/json;charset=utf-8', 'User-Agent': 'huaweicloud-usdk-python/3.0',
 *         'X-Project-Id': 'project-a', 'X-Sdk-Date': '20261128T093000Z'}, CREATE_BODY)
 *   sign('GET', '/v2/project-a/os-volume-transfer/' + quote('a b/ü~', safe=''),  # as the SDK quotes path parameters
 *        [('offset', 0), ('limit', 10), ('name', 'x y+z'), ('name', 'ä'), ('a', '')],
 *        {'Content-Type': 'application/json', 'X-Project-Id': 'project-a', 'X-Sdk-Date': '20261128T093000Z'}, None)
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface SdkVector {
  name: string;
  accessKeyId: string;
  secretKey: string;
  projectId: string;
  /** When it was signed: X-Sdk-Date as epoch milliseconds. */
  signedAtMs: number;
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders & { authorization: string; 'x-sdk-date': string };
  body: Buffer;
}

const ACCESS_KEY_ID = 'QTWAOYTTINDUT2QVKYUC';
const SECRET_KEY = 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc';
const SIGNED_AT = Date.UTC(2026, 10, 28, 9, 30, 0);

export const SDK_VECTORS: readonly SdkVector[] = [
  {
    name: 'create (POST with a JSON body)',
    accessKeyId: ACCESS_KEY_ID,
    secretKey: SECRET_KEY,
    projectId: 'project-a',
    signedAtMs: SIGNED_AT,
    method: 'POST',
    path: '/v2/project-a/os-volume-transfer',
    query: '',
    headers: {
      'content-type': 'application/json;charset=utf-8',
      'user-agent': 'huaweicloud-usdk-python/3.0',
      'x-project-id': 'project-a',
      'x-sdk-date': '20261128T093000Z',
      host: '127.0.0.1:31080',
      authorization:
        'SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, Signature=da52876b731fc3121e78e4c074b084d9373ac1513fc2cecbe34b0109dd422b18',
    },
    body: Buffer.from('{"transfer": {"volume_id": "5b0e3ac5-6d6e-4d1b-9c1e-0d8a8a0b5d4e", "name": "to team B"}}'),
  },
  {
    name: 'GET with an encoded path, repeated and non-ASCII query values',
    accessKeyId: ACCESS_KEY_ID,
    secretKey: SECRET_KEY,
    projectId: 'project-a',
    signedAtMs: SIGNED_AT,
    method: 'GET',
    path: '/v2/project-a/os-volume-transfer/a%20b%2F%C3%BC~',
    query: 'a=&limit=10&name=x%20y%2Bz&name=%C3%A4&offset=0',
    headers: {
      'content-type': 'application/json',
      'x-project-id': 'project-a',
      'x-sdk-date': '20261128T093000Z',
      host: '127.0.0.1:31080',
      authorization:
        'SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=f456648f2d6528ed9a6adbba1e65bfda0e49017c0d7da9ffdffbd72f4e8e7c21',
    },
    body: Buffer.alloc(0),
  },
];
