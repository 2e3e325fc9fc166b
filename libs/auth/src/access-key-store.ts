/**
 * Access keys for Huawei AK/SK request signing, in the accessKeys store
 * (ACCESS_KEY_DATABASE_URL or DATABASE_URL: a SQLite file on one machine,
 * PostgreSQL when gateways run on several hosts). The gateway reads it and
 * the access-keys command writes it.
 *
 * Checking an HMAC signature needs the secret key itself, so it cannot be
 * stored as a hash. It is stored encrypted instead: AES-256-GCM under a
 * master key kept in a separate file (0600, created on first use), with the
 * access key id as additional authenticated data so a ciphertext copied onto
 * another row does not decrypt. The database alone gives an attacker nothing
 * to sign with; the database and the master key file together give
 * everything, so keep the key file off backups of the database. Every
 * gateway sharing one database needs a copy of the same key file.
 *
 * Every lookup reads the row afresh (a primary-key read), so a revocation
 * counts from the next request on, in every process that uses the database.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sql } from 'kysely';
import { isProjectId } from '../../domain/src/ids';
import { type DatabaseTarget, describeTarget } from '../../database/src/database-url';
import { StoreDatabase, type StoreMigration } from '../../database/src/store-database';
import { loadOrCreateRandomKey } from './key-files';
import type { Principal } from './token-verifier';

export const ACCESS_KEY_ID_LENGTH = 20;
export const SECRET_KEY_LENGTH = 40;
export const DEFAULT_ACCESS_KEY_ROLES: readonly string[] = ['member'];

const ACCESS_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SECRET_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const MASTER_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MAX_ROLES = 64;
const MAX_TEXT = 255;

export interface AccessKeyStoreOptions {
  /** The file holding the key that encrypts the stored secrets; created on first use. */
  masterKeyFile: string;
  poolMax?: number;
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
  findActive(accessKeyId: string): Promise<ActiveAccessKey | null>;
}

/** A secret as the store keeps it: AES-256-GCM's three parts. */
export interface SealedSecret {
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** Uniform over the alphabet: randomInt rejects the biased tail. */
function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[crypto.randomInt(alphabet.length)];
  return out;
}

/** Encrypts a secret for the row of `accessKeyId`, and for no other row. */
export function sealSecret(masterKey: Buffer, accessKeyId: string, secretKey: string): SealedSecret {
  const nonce = crypto.randomBytes(NONCE_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', masterKey, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(accessKeyId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(secretKey, 'utf8'), cipher.final()]);
  return { nonce, ciphertext, tag: cipher.getAuthTag() };
}

export function unsealSecret(masterKey: Buffer, accessKeyId: string, sealed: SealedSecret): string {
  const decipher = crypto.createDecipheriv('aes-256-gcm', masterKey, sealed.nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(accessKeyId, 'utf8'));
  decipher.setAuthTag(sealed.tag);
  try {
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    // Not a caller's mistake: the master key is not the one the row was sealed with, or the row was altered.
    throw new Error(`The secret of access key ${accessKeyId} does not decrypt under the configured master key`);
  }
}

/** The new key's fields with their defaults, or an error naming the first bad one. */
export function validateNewAccessKey(input: NewAccessKey): Omit<AccessKeyRecord, 'accessKeyId' | 'createdAt' | 'revokedAt'> {
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

interface AccessKeysTable {
  access_key_id: string;
  project_id: string;
  user_id: string;
  /** A JSON array of strings. */
  roles: string;
  description: string;
  secret_nonce: Buffer;
  secret_ciphertext: Buffer;
  secret_tag: Buffer;
  created_at: string;
  revoked_at: string | null;
}

interface AccessKeySchema {
  access_keys: AccessKeysTable;
}

/**
 * The SQLite release kept this same table (STRICT there) and counted its
 * schema in PRAGMA user_version, at 1. Created only if missing, so a file
 * it wrote is taken over as it is; the times stay ISO 8601 text, as that
 * release wrote them.
 */
export const ACCESS_KEY_MIGRATIONS: readonly StoreMigration[] = [
  {
    name: '0001_access_keys',
    async up(db, dialect) {
      const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
      let table = db.schema
        .createTable('access_keys')
        .ifNotExists()
        .addColumn('access_key_id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('secret_nonce', bytes, (c) => c.notNull())
        .addColumn('secret_ciphertext', bytes, (c) => c.notNull())
        .addColumn('secret_tag', bytes, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text');
      // STRICT is SQLite's own word (PostgreSQL's columns are typed anyway).
      if (dialect === 'sqlite') table = table.modifyEnd(sql`strict`);
      await table.execute();
      await db.schema
        .createIndex('access_keys_by_project')
        .ifNotExists()
        .on('access_keys')
        .columns(['project_id', 'created_at', 'access_key_id'])
        .execute();
      // The SQLite release reads user_version 1 as "schema in place": a file
      // made here stays usable by it, should an upgrade be rolled back.
      if (dialect === 'sqlite') await sql`PRAGMA user_version = 1`.execute(db);
    },
  },
];

const COLUMNS = ['access_key_id', 'project_id', 'user_id', 'roles', 'description', 'created_at', 'revoked_at'] as const;

function toRecord(row: Pick<AccessKeysTable, (typeof COLUMNS)[number]>): AccessKeyRecord {
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

/**
 * Creates the SQLite file owner-only before SQLite opens it, so no other
 * user can read it even for the moment between creation and a chmod. SQLite
 * gives its -wal and -shm files the database file's mode.
 */
function createPrivateSqliteFile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.writeFileSync(file, '', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  // The umask may have taken bits off; put back exactly 0600.
  fs.chmodSync(file, 0o600);
}

export class AccessKeyStore implements AccessKeyLookup {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly store: StoreDatabase<AccessKeySchema>,
    private readonly masterKey: Buffer,
  ) {}

  /**
   * Opens the store (creating its schema, and on SQLite its file 0600 and
   * folder, if needed) and the master key (creating it on first use).
   * Refuses to create a master key for a database that already holds keys:
   * they were encrypted under a key that is gone, and a new one would only
   * hide that.
   */
  static async open(target: DatabaseTarget, options: AccessKeyStoreOptions): Promise<AccessKeyStore> {
    if (target.dialect === 'sqlite') createPrivateSqliteFile(target.file);
    const store = await StoreDatabase.open<AccessKeySchema>({
      store: 'accessKeys',
      target,
      migrations: ACCESS_KEY_MIGRATIONS,
      poolMax: options.poolMax,
    });
    try {
      if (!fs.existsSync(options.masterKeyFile)) {
        const { n } = await store.run((db) =>
          db
            .selectFrom('access_keys')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow(),
        );
        if (n > 0) {
          throw new Error(
            `Access-key master key file ${options.masterKeyFile} is missing but ${describeTarget(target)} holds ${n} keys encrypted under it`,
          );
        }
      }
      return new AccessKeyStore(store, loadOrCreateRandomKey(options.masterKeyFile, MASTER_KEY_BYTES));
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  async create(input: NewAccessKey, nowMs: number = Date.now()): Promise<CreatedAccessKey> {
    const key = validateNewAccessKey(input);
    const accessKeyId = randomString(ACCESS_KEY_ALPHABET, ACCESS_KEY_ID_LENGTH);
    const secretKey = randomString(SECRET_KEY_ALPHABET, SECRET_KEY_LENGTH);
    const sealed = sealSecret(this.masterKey, accessKeyId, secretKey);
    const record: AccessKeyRecord = { accessKeyId, ...key, createdAt: new Date(nowMs).toISOString(), revokedAt: null };
    // A plain insert: a clash of 20 random characters would be refused by
    // the primary key rather than overwrite another key.
    await this.store.run((db) =>
      db
        .insertInto('access_keys')
        .values({
          access_key_id: accessKeyId,
          project_id: key.projectId,
          user_id: key.userId,
          roles: JSON.stringify(key.roles),
          description: key.description,
          secret_nonce: sealed.nonce,
          secret_ciphertext: sealed.ciphertext,
          secret_tag: sealed.tag,
          created_at: record.createdAt,
        })
        .execute(),
    );
    return { record, secretKey };
  }

  async findActive(accessKeyId: string): Promise<ActiveAccessKey | null> {
    const row = await this.store.run((db) =>
      db
        .selectFrom('access_keys')
        .select([...COLUMNS, 'secret_nonce', 'secret_ciphertext', 'secret_tag'])
        .where('access_key_id', '=', accessKeyId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst(),
    );
    if (row === undefined) return null;
    const record = toRecord(row);
    return {
      principal: { userId: record.userId, projectId: record.projectId, roles: record.roles },
      secretKey: unsealSecret(this.masterKey, row.access_key_id, {
        nonce: row.secret_nonce,
        ciphertext: row.secret_ciphertext,
        tag: row.secret_tag,
      }),
    };
  }

  /** Every key of the project, revoked ones included, oldest first; never a secret. */
  async list(projectId: string): Promise<AccessKeyRecord[]> {
    const rows = await this.store.run((db) =>
      db
        .selectFrom('access_keys')
        .select(COLUMNS)
        .where('project_id', '=', projectId)
        .orderBy('created_at', 'asc')
        .orderBy('access_key_id', 'asc')
        .execute(),
    );
    return rows.map(toRecord);
  }

  /**
   * Revokes the key (a second revoke keeps the first time); null when there
   * is no such key. One statement: two revocations racing on PostgreSQL
   * meet on the row's lock, and the later one finds the time already set.
   */
  async revoke(accessKeyId: string, nowMs: number = Date.now()): Promise<AccessKeyRecord | null> {
    const revokedAt = new Date(nowMs).toISOString();
    const row = await this.store.run((db) =>
      db
        .updateTable('access_keys')
        .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(revokedAt)) }))
        .where('access_key_id', '=', accessKeyId)
        .returning(COLUMNS)
        .executeTakeFirst(),
    );
    return row === undefined ? null : toRecord(row);
  }

  /** Idempotent, as a shutdown hook and a finally may both call it. */
  close(): Promise<void> {
    this.closing ??= this.store.close();
    return this.closing;
  }
}
