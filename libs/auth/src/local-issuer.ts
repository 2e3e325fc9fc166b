/**
 * The development and test token issuer: an Ed25519 key pair generated on
 * first start, tokens signed EdDSA. Production verifies tokens of the real
 * identity service instead (a configured public key; JWKS later), so nothing
 * here is needed at run time beyond the public key the verifier reads.
 */
import * as crypto from 'node:crypto';
import { SignJWT } from 'jose';
import { isProjectId } from '../../domain/src/ids';
import { readIfExists, writeFileOnce } from './key-files';
import { PROJECT_CLAIM, ROLES_CLAIM } from './token-rules';

export interface SigningKeyFiles {
  privateKeyFile: string;
  publicKeyFile: string;
}

export interface IssuerSettings {
  jwtPrivateKeyFile: string;
  jwtPublicKeyFile: string;
  jwtIssuer: string;
  jwtAudience: string;
}

export interface TokenRequest {
  projectId: string;
  userId: string;
  roles: string[];
  ttlSeconds: number;
}

export const TOKEN_ALGORITHM = 'EdDSA';
export { PROJECT_CLAIM, ROLES_CLAIM };
export const MAX_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Makes sure both key files exist, creating the pair on first use. The
 * private key is the source of truth: if only it exists, the public key is
 * derived from it again; whichever process links its private key first wins
 * and the others derive from the winner's. Returns the private key.
 */
export function ensureSigningKeys(files: SigningKeyFiles): crypto.KeyObject {
  let privatePem = readIfExists(files.privateKeyFile);
  if (privatePem === null) {
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    writeFileOnce(files.privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600);
    privatePem = readIfExists(files.privateKeyFile);
    if (privatePem === null) throw new Error(`Could not create ${files.privateKeyFile}`);
  }
  const privateKey = crypto.createPrivateKey(privatePem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${files.privateKeyFile} is not an Ed25519 private key`);
  }
  if (readIfExists(files.publicKeyFile) === null) {
    const publicPem = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'pem' });
    writeFileOnce(files.publicKeyFile, publicPem, 0o644);
  }
  return privateKey;
}

export class LocalTokenIssuer {
  private constructor(
    private readonly privateKey: crypto.KeyObject,
    private readonly issuer: string,
    private readonly audience: string,
  ) {}

  /** Loads the signing key, creating the key pair on first use. */
  static open(settings: IssuerSettings): LocalTokenIssuer {
    const privateKey = ensureSigningKeys({
      privateKeyFile: settings.jwtPrivateKeyFile,
      publicKeyFile: settings.jwtPublicKeyFile,
    });
    return new LocalTokenIssuer(privateKey, settings.jwtIssuer, settings.jwtAudience);
  }

  async issueToken(request: TokenRequest, nowMs: number = Date.now()): Promise<string> {
    if (!isProjectId(request.projectId)) throw new Error('projectId must be 1 to 64 letters, digits, "-" or "_"');
    if (typeof request.userId !== 'string' || request.userId.length === 0 || request.userId.length > 255) {
      throw new Error('userId must be a non-empty string of at most 255 characters');
    }
    if (!Array.isArray(request.roles) || !request.roles.every((r) => typeof r === 'string' && r.length > 0)) {
      throw new Error('roles must be non-empty strings');
    }
    const ttl = request.ttlSeconds;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) {
      throw new Error(`ttlSeconds must be an integer from 1 to ${MAX_TOKEN_TTL_SECONDS}`);
    }
    const iat = Math.floor(nowMs / 1000);
    return new SignJWT({ [PROJECT_CLAIM]: request.projectId, [ROLES_CLAIM]: [...request.roles] })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setSubject(request.userId)
      .setJti(crypto.randomUUID())
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + ttl)
      .sign(this.privateKey);
  }
}

/** One-shot helper for scripts and tests: open the local issuer (creating its keys) and sign one token. */
export async function issueLocalToken(settings: IssuerSettings, request: TokenRequest): Promise<string> {
  return LocalTokenIssuer.open(settings).issueToken(request);
}
