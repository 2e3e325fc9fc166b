/**
 * Access keys for Huawei AK/SK request signing, in a SQLite file the gateway
 * reads and the access-keys command writes.
 *
 * Checking an HMAC signature needs the secret key itself, so it cannot be
 * stored as a hash. It is stored encrypted instead: AES-256-GCM under a
 * master key kept in a separate file (0600, created on first use), with the
 * access key id as additional authenticated data so a ciphertext copied onto
 * another row does not decrypt. The database alone gives an attacker nothing
 * to sign with; the database and the master key file together give
 * everything, so keep the key file off backups of the database.
 *
 * Every lookup reads the row afresh (a primary-key read), so a revocation
 * counts from the next request on, in every process that opened the file.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { isProjectId } from '../../domain/src/ids';
import { loadOrCreateRandomKey } from './key-files';
import type { Principal } from './token-verifier';

export const ACCESS_KEY_ID_LENGTH = 20;
export const SECRET_KEY_LENGTH = 40;
export const DEFAULT_ACCESS_KEY_ROLES: readonly string[] = ['member'];

const ACCESS_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SECRET_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const MASTER_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MAX_ROLES = 64;
const MAX_TEXT = 255;

export interface AccessKeySettings {
  accessKeyDbPath: string;
  accessKeyMasterKeyFile: string;
}

export interface NewAccessKey {
  projectId: string;
  userId: string;
  roles?: readonly string[];
  description?: string;
}

/** What may be shown about a key: everything but the secret. */
export interface AccessKeyRecord {
  accessKeyId: string;
  projectId: string;
  userId: string;
  roles: string[];
  description: string;
  /** ISO 8601, UTC. */
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedAccessKey {
  record: AccessKeyRecord;
  /** Returned this once; the store keeps only its ciphertext. */
  secretKey: string;
}

/** What the signature verifier needs of a key that is still valid. */
export interface ActiveAccessKey {
  principal: Principal;
  secretKey: string;
}

export interface AccessKeyLookup {
  /** The key, unless it does not exist or is revoked. */
  findActive(accessKeyId: string): ActiveAccessKey | null;
}

/** Uniform over the alphabet: randomInt rejects the biased tail. */
function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[crypto.randomInt(alphabet.length)];
  return out;
}

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE access_keys (
    access_key_id     TEXT PRIMARY KEY,
    project_id        TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    roles             TEXT NOT NULL,
    description       TEXT NOT NULL,
    secret_nonce      BLOB NOT NULL,
    secret_ciphertext BLOB NOT NULL,
    secret_tag        BLOB NOT NULL,
    created_at        TEXT NOT NULL,
    revoked_at        TEXT
  ) STRICT;
  CREATE INDEX access_keys_by_project ON access_keys (project_id, created_at, access_key_id);
  `,
];

interface Row {
  access_key_id: string;
  project_id: string;
  user_id: string;
  roles: string;
  description: string;
  created_at: string;
  revoked_at: string | null;
}

interface SecretRow extends Row {
  secret_nonce: Buffer;
  secret_ciphertext: Buffer;
  secret_tag: Buffer;
}

const COLUMNS = 'access_key_id, project_id, user_id, roles, description, created_at, revoked_at';

function toRecord(row: Row): AccessKeyRecord {
  return {
    accessKeyId: row.access_key_id,
    projectId: row.project_id,
    userId: row.user_id,
    roles: JSON.parse(row.roles) as string[],
    description: row.description,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

function migrate(db: Database.Database): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let version = current; version < MIGRATIONS.length; version++) db.exec(MIGRATIONS[version]);
    if (current < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

function validate(input: NewAccessKey): Omit<AccessKeyRecord, 'accessKeyId' | 'createdAt' | 'revokedAt'> {
  const roles = [...(input.roles ?? DEFAULT_ACCESS_KEY_ROLES)];
  const description = input.description ?? '';
  if (!isProjectId(input.projectId)) throw new Error('project must be 1 to 64 letters, digits, "-" or "_"');
  if (typeof input.userId !== 'string' || input.userId.length === 0 || input.userId.length > MAX_TEXT) {
    throw new Error(`user must be a non-empty string of at most ${MAX_TEXT} characters`);
  }
  if (roles.length > MAX_ROLES || !roles.every((r) => typeof r === 'string' && r.length > 0 && r.length <= MAX_TEXT)) {
    throw new Error(`roles must be at most ${MAX_ROLES} non-empty strings`);
  }
  if (typeof description !== 'string' || description.length > MAX_TEXT) {
    throw new Error(`description must be at most ${MAX_TEXT} characters`);
  }
  return { projectId: input.projectId, userId: input.userId, roles, description };
}

export class AccessKeyStore implements AccessKeyLookup {
  private readonly insertKey: Database.Statement;
  private readonly selectActive: Database.Statement<[string], SecretRow>;
  private readonly selectOne: Database.Statement<[string], Row>;
  private readonly selectByProject: Database.Statement<[string], Row>;
  private readonly markRevoked: Database.Statement<[string, string]>;

  private constructor(
    private readonly db: Database.Database,
    private readonly masterKey: Buffer,
  ) {
    this.insertKey = db.prepare(`
      INSERT INTO access_keys (access_key_id, project_id, user_id, roles, description,
                               secret_nonce, secret_ciphertext, secret_tag, created_at)
      VALUES (@accessKeyId, @projectId, @userId, @roles, @description, @nonce, @ciphertext, @tag, @createdAt)`);
    this.selectActive = db.prepare(
      `SELECT ${COLUMNS}, secret_nonce, secret_ciphertext, secret_tag FROM access_keys
       WHERE access_key_id = ? AND revoked_at IS NULL`,
    );
    this.selectOne = db.prepare(`SELECT ${COLUMNS} FROM access_keys WHERE access_key_id = ?`);
    this.selectByProject = db.prepare(
      `SELECT ${COLUMNS} FROM access_keys WHERE project_id = ? ORDER BY created_at, access_key_id`,
    );
    this.markRevoked = db.prepare('UPDATE access_keys SET revoked_at = ? WHERE access_key_id = ? AND revoked_at IS NULL');
  }

  /**
   * Opens the database (creating file, folder and schema if needed, the file
   * 0600) and the master key (creating it on first use). Refuses to create a
   * master key for a database that already holds keys: they were encrypted
   * under a key that is gone, and a new one would only hide that.
   */
  static open(settings: AccessKeySettings): AccessKeyStore {
    const dbPath = path.resolve(settings.accessKeyDbPath);
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    const created = !fs.existsSync(dbPath);
    const db = new Database(dbPath, { timeout: 5000 });
    try {
      if (created) fs.chmodSync(dbPath, 0o600);
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db);
      if (!fs.existsSync(settings.accessKeyMasterKeyFile)) {
        const { n } = db.prepare('SELECT count(*) AS n FROM access_keys').get() as { n: number };
        if (n > 0) {
          throw new Error(
            `Access-key master key file ${settings.accessKeyMasterKeyFile} is missing but ${dbPath} holds ${n} keys encrypted under it`,
          );
        }
      }
      return new AccessKeyStore(db, loadOrCreateRandomKey(settings.accessKeyMasterKeyFile, MASTER_KEY_BYTES));
    } catch (err) {
      db.close();
      throw err;
    }
  }

  create(input: NewAccessKey, nowMs: number = Date.now()): CreatedAccessKey {
    const key = validate(input);
    const accessKeyId = randomString(ACCESS_KEY_ALPHABET, ACCESS_KEY_ID_LENGTH);
    const secretKey = randomString(SECRET_KEY_ALPHABET, SECRET_KEY_LENGTH);
    const nonce = crypto.randomBytes(NONCE_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.masterKey, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(accessKeyId, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(secretKey, 'utf8'), cipher.final()]);
    const record: AccessKeyRecord = { accessKeyId, ...key, createdAt: new Date(nowMs).toISOString(), revokedAt: null };
    this.insertKey.run({
      accessKeyId,
      projectId: key.projectId,
      userId: key.userId,
      roles: JSON.stringify(key.roles),
      description: key.description,
      nonce,
      ciphertext,
      tag: cipher.getAuthTag(),
      createdAt: record.createdAt,
    });
    return { record, secretKey };
  }

  findActive(accessKeyId: string): ActiveAccessKey | null {
    const row = this.selectActive.get(accessKeyId);
    if (row === undefined) return null;
    const record = toRecord(row);
    return {
      principal: { userId: record.userId, projectId: record.projectId, roles: record.roles },
      secretKey: this.decrypt(row),
    };
  }

  /** Every key of the project, revoked ones included, oldest first; never a secret. */
  list(projectId: string): AccessKeyRecord[] {
    return this.selectByProject.all(projectId).map(toRecord);
  }

  /** Revokes the key (a second revoke keeps the first time); null when there is no such key. */
  revoke(accessKeyId: string, nowMs: number = Date.now()): AccessKeyRecord | null {
    this.markRevoked.run(new Date(nowMs).toISOString(), accessKeyId);
    const row = this.selectOne.get(accessKeyId);
    return row === undefined ? null : toRecord(row);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private decrypt(row: SecretRow): string {
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.masterKey, row.secret_nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(row.access_key_id, 'utf8'));
    decipher.setAuthTag(row.secret_tag);
    try {
      return Buffer.concat([decipher.update(row.secret_ciphertext), decipher.final()]).toString('utf8');
    } catch {
      // Not a caller's mistake: the master key is not the one the row was sealed with, or the row was altered.
      throw new Error(`The secret of access key ${row.access_key_id} does not decrypt under the configured master key`);
    }
  }
}
