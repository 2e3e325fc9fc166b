/**
 * How every process reaches Temporal, from configuration: plaintext to the
 * dev server; TLS, with a client certificate for mTLS and a CA of one's own,
 * to a self-hosted cluster; an API key over TLS to Temporal Cloud. One place,
 * so the gateway, the worker and the operator's commands connect alike.
 */
import * as fs from 'node:fs';
import type { AppConfig } from '../../config/src/config';

export interface TemporalConnectionSettings {
  address: string;
  tls?: {
    serverNameOverride?: string;
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
  };
  apiKey?: string;
}

function readSecretFile(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`${what} ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Reads the files the configuration names; throws one line naming a file that cannot be read. */
export function temporalConnectionSettings(temporal: AppConfig['temporal']): TemporalConnectionSettings {
  const settings: TemporalConnectionSettings = { address: temporal.address };
  if (temporal.tls !== null) {
    const { caFile, certFile, keyFile, serverName } = temporal.tls;
    settings.tls = {
      ...(serverName ? { serverNameOverride: serverName } : {}),
      ...(caFile ? { serverRootCACertificate: readSecretFile(caFile, 'TEMPORAL_TLS_CA_FILE') } : {}),
      ...(certFile
        ? { clientCertPair: { crt: readSecretFile(certFile, 'TEMPORAL_TLS_CERT_FILE'), key: readSecretFile(keyFile, 'TEMPORAL_TLS_KEY_FILE') } }
        : {}),
    };
  }
  if (temporal.apiKeyFile !== '') settings.apiKey = readSecretFile(temporal.apiKeyFile, 'TEMPORAL_API_KEY_FILE').toString('utf8').trim();
  return settings;
}
