import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config/src/config';
import { temporalConnectionSettings } from './connection-options';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-tls-'));
const file = (name: string, text: string) => {
  const full = path.join(dir, name);
  fs.writeFileSync(full, text);
  return full;
};
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const settings = (env: Record<string, string>) => temporalConnectionSettings(loadConfig({ DATA_DIR: dir, ...env }).temporal);

describe('temporalConnectionSettings', () => {
  it('is plaintext to the address by default, as the dev server wants', () => {
    expect(settings({ TEMPORAL_ADDRESS: 'temporal:7233' })).toEqual({ address: 'temporal:7233' });
  });

  it('turns TLS on with the system CAs on request', () => {
    expect(settings({ TEMPORAL_TLS: '1' })).toEqual({ address: '127.0.0.1:7233', tls: {} });
  });

  it('presents a client certificate for mTLS, trusts a private CA and checks the name asked for', () => {
    const result = settings({
      TEMPORAL_TLS_CERT_FILE: file('client.pem', 'CERT'),
      TEMPORAL_TLS_KEY_FILE: file('client.key', 'KEY'),
      TEMPORAL_TLS_CA_FILE: file('ca.pem', 'CA'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(result.tls?.clientCertPair).toEqual({ crt: Buffer.from('CERT'), key: Buffer.from('KEY') });
    expect(result.tls?.serverRootCACertificate).toEqual(Buffer.from('CA'));
    expect(result.tls?.serverNameOverride).toBe('temporal.internal');
  });

  it('sends a Temporal Cloud API key from its file, over TLS', () => {
    const result = settings({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY_FILE: file('api-key', 'secret-key\n') });
    expect(result).toEqual({ address: 'ns.acct.tmprl.cloud:7233', tls: {}, apiKey: 'secret-key' });
  });

  it('names a file it cannot read', () => {
    expect(() => settings({ TEMPORAL_TLS_CA_FILE: path.join(dir, 'missing.pem') })).toThrow(/TEMPORAL_TLS_CA_FILE .*missing\.pem cannot be read: ENOENT/);
  });

  it('refuses half a client certificate, and an API key without TLS', () => {
    expect(() => loadConfig({ TEMPORAL_TLS_CERT_FILE: 'client.pem' })).toThrow(ConfigError);
    expect(() => loadConfig({ TEMPORAL_TLS: '0', TEMPORAL_API_KEY_FILE: 'key' })).toThrow(/only sent over TLS/);
  });
});
