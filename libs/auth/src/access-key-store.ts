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
 * gateway sharing one database needs a copy of the same key files.
 *
 * Master keys rotate (master-keyring.ts): each row records the id of the key
 * it was sealed under (master_key_id; NULL on rows sealed before ids were
 * recorded, which are tried under every key, the current one first), new
 * rows are sealed under the current key, and resealAll moves every row onto
 * the current key in one transaction. The key id is deliberately not part
 * of the additional data: GCM already refuses a ciphertext under any key but
 * its own, so binding the id would add nothing, and keeping the data as it
 * was means a rotation changes no format: a release from before key ids,
 * given the current key as its one key file, reads every row (the
 * SQLite-only release as it is; the previous query-layer release once the
 * 0002 record is removed from access_keys_migrations, as its migrator
 * refuses a step it does not know).
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
import { loadMasterKeyring, MASTER_KEY_BYTES, type MasterKeyring } from './master-keyring';
import type { Principal } from './token-verifier';

export const ACCESS_KEY_ID_LENGTH = 20;
export const SECRET_KEY_LENGTH = 40;
export const DEFAULT_ACCESS_KEY_ROLES: readonly string[] = ['member'];

const ACCESS_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SECRET_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MAX_ROLES = 64;
const MAX_TEXT = 255;

export interface AccessKeyStoreOptions {
  /** The file holding the key that encrypts the stored secrets; created on first use. */
  masterKeyFile: string;
  /** The folder of further keys that only decrypt (retired ones, the next one); may not exist. */
  masterKeyringDir: string;
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

/** Opens a secret under one key; throws when it is not that key's (or the row was altered). */
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

/** A stored secret that no key of this process's keyring opens. */
export class SecretUnreadableError extends Error {
  constructor(
    readonly accessKeyId: string,
    /** The key the row names; null when it names none (sealed before key ids were recorded). */
    readonly masterKeyId: string | null,
    keyring: MasterKeyring,
  ) {
    super(
      masterKeyId !== null && keyring.key(masterKeyId) === undefined
        ? `The secret of access key ${accessKeyId} does not decrypt: it is sealed under master key ${masterKeyId}, which this keyring (${keyring.describe()}) lacks`
        : `The secret of access key ${accessKeyId} does not decrypt under ${masterKeyId === null ? 'any master key of this keyring' : `master key ${masterKeyId}`} (${keyring.describe()})`,
    );
    this.name = 'SecretUnreadableError';
  }
}

/**
 * Opens a row's secret: under the key the row names, or, when it names none
 * (sealed before key ids were recorded), under the first key that opens it,
 * the current one tried first. Returns the id of the key that opened it.
 */
export function unsealWithKeyring(
  keyring: MasterKeyring,
  accessKeyId: string,
  recordedKeyId: string | null,
  sealed: SealedSecret,
): { secretKey: string; masterKeyId: string } {
  const recorded = recordedKeyId === null ? undefined : keyring.key(recordedKeyId);
  const candidates: [string, Buffer][] =
    recordedKeyId === null ? keyring.entries() : recorded === undefined ? [] : [[recordedKeyId, recorded]];
  for (const [id, key] of candidates) {
    try {
      return { secretKey: unsealSecret(key, accessKeyId, sealed), masterKeyId: id };
    } catch {
      // Not this key's: the next one may be.
    }
  }
  throw new SecretUnreadableError(accessKeyId, recordedKeyId, keyring);
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
  /** Which master key sealed the secret (masterKeyId); NULL on rows sealed before this was recorded. */
  master_key_id: string | null;
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
  {
    // Nullable: rows sealed before it existed keep NULL and are tried under
    // every key. SQLite's user_version stays 1: the SQLite-only release
    // names its columns, so an added one does not disturb it. Added only if
    // missing (SQLite has no ADD COLUMN IF NOT EXISTS), so the step runs
    // again cleanly after a rollback that removed its migration record.
    name: '0002_access_keys_master_key_id',
    async up(db, dialect) {
      if (dialect === 'postgres') {
        await db.schema.alterTable('access_keys').addColumn('master_key_id', 'text', (c) => c.ifNotExists()).execute();
        return;
      }
      const { rows } = await sql`SELECT 1 FROM pragma_table_info('access_keys') WHERE name = 'master_key_id'`.execute(db);
      if (rows.length === 0) await db.schema.alterTable('access_keys').addColumn('master_key_id', 'text').execute();
    },
  },
];

function sealedOf(row: Pick<AccessKeysTable, 'secret_nonce' | 'secret_ciphertext' | 'secret_tag'>): SealedSecret {
  return { nonce: row.secret_nonce, ciphertext: row.secret_ciphertext, tag: row.secret_tag };
}

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

/** What resealAll did: rows moved onto the current key, rows that were on it already. */
export interface ResealOutcome {
  masterKeyId: string;
  resealed: number;
  alreadyCurrent: number;
}

/** Which master keys the stored secrets need (revoked keys' included). */
export interface MasterKeyUsage {
  /** Rows per master key id: the id a row records, or for a row that records none, the id of the key that opens it. */
  rowsByKey: Record<string, number>;
  /** Rows that record no key id (sealed before ids were recorded); counted in rowsByKey too when a key opens them. */
  unrecorded: number;
  /** Of those, the rows that no key of this keyring opens. */
  unrecordedUnreadable: number;
}

/** Re-sealing refused: rows that this keyring cannot open, by the key id they name ('none' for rows naming none). */
export class ResealRefusedError extends Error {
  constructor(
    readonly unreadable: readonly SecretUnreadableError[],
    keyring: MasterKeyring,
  ) {
    const byKey = new Map<string, string[]>();
    for (const e of unreadable) {
      const id = e.masterKeyId ?? 'none recorded';
      byKey.set(id, [...(byKey.get(id) ?? []), e.accessKeyId]);
    }
    const parts = [...byKey].map(([id, keys]) => {
      const missing = id !== 'none recorded' && keyring.key(id) === undefined ? ', not in the keyring' : '';
      const named = keys.slice(0, 5).join(', ') + (keys.length > 5 ? ', ...' : '');
      return `master key ${id}${missing}: ${keys.length} (${named})`;
    });
    super(
      `Cannot re-seal: ${unreadable.length} stored secrets do not decrypt under this keyring (${keyring.describe()}); ` +
        `${parts.join('; ')}. Nothing was changed. Put the keys they need in ACCESS_KEY_MASTER_KEYRING_DIR and run again.`,
    );
    this.name = 'ResealRefusedError';
  }
}

export class AccessKeyStore implements AccessKeyLookup {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly store: StoreDatabase<AccessKeySchema>,
    /** Read once, at open: a key added to the folder later counts from the next start. */
    readonly keyring: MasterKeyring,
  ) {}

  /**
   * Opens the store (creating its schema, and on SQLite its file 0600 and
   * folder, if needed) and the master keys (creating the current one on
   * first use). Refuses to create a master key for a database that already
   * holds keys: they were encrypted under a key that is gone, and a new one
   * would only hide that.
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
      loadOrCreateRandomKey(options.masterKeyFile, MASTER_KEY_BYTES, 'Access-key master key');
      return new AccessKeyStore(store, loadMasterKeyring({ currentFile: options.masterKeyFile, keyringDir: options.masterKeyringDir }));
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  async create(input: NewAccessKey, nowMs: number = Date.now()): Promise<CreatedAccessKey> {
    const key = validateNewAccessKey(input);
    const accessKeyId = randomString(ACCESS_KEY_ALPHABET, ACCESS_KEY_ID_LENGTH);
    const secretKey = randomString(SECRET_KEY_ALPHABET, SECRET_KEY_LENGTH);
    const sealed = sealSecret(this.keyring.current, accessKeyId, secretKey);
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
          master_key_id: this.keyring.currentId,
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
        .select([...COLUMNS, 'secret_nonce', 'secret_ciphertext', 'secret_tag', 'master_key_id'])
        .where('access_key_id', '=', accessKeyId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst(),
    );
    if (row === undefined) return null;
    const record = toRecord(row);
    return {
      principal: { userId: record.userId, projectId: record.projectId, roles: record.roles },
      secretKey: unsealWithKeyring(this.keyring, row.access_key_id, row.master_key_id, sealedOf(row)).secretKey,
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

  /**
   * Seals every stored secret (revoked keys' too, so no row keeps an old
   * key needed) under the current master key, in one transaction: all rows
   * or none. Rows already recorded under the current key stay as they are,
   * so a second run changes nothing, and a run after a host sealed new rows
   * under the previous key picks up just those. Every row is opened before
   * any is written: one that this keyring cannot open stops the run with
   * ResealRefusedError, naming the keys missing.
   *
   * Gateways go on reading meanwhile: they see the rows as committed, before
   * or after, and need both keys until they are restarted on the new layout.
   * On PostgreSQL the rows are locked FOR UPDATE, so two runs at once take
   * turns (the second finds nothing left to do); SQLite has one writer.
   */
  async resealAll(): Promise<ResealOutcome> {
    const keyring = this.keyring;
    return this.store.transaction(async (trx) => {
      let query = trx
        .selectFrom('access_keys')
        .select(['access_key_id', 'master_key_id', 'secret_nonce', 'secret_ciphertext', 'secret_tag'])
        .orderBy('access_key_id');
      // FOR UPDATE is PostgreSQL's; SQLite's transaction already holds the one write lock once it writes.
      if (this.store.dialect === 'postgres') query = query.forUpdate();
      const rows = await query.execute();
      const stale = rows.filter((row) => row.master_key_id !== keyring.currentId);
      const opened: { accessKeyId: string; secretKey: string }[] = [];
      const unreadable: SecretUnreadableError[] = [];
      for (const row of stale) {
        try {
          opened.push({ accessKeyId: row.access_key_id, secretKey: unsealWithKeyring(keyring, row.access_key_id, row.master_key_id, sealedOf(row)).secretKey });
        } catch (err) {
          if (!(err instanceof SecretUnreadableError)) throw err;
          unreadable.push(err);
        }
      }
      if (unreadable.length > 0) throw new ResealRefusedError(unreadable, keyring);
      for (const { accessKeyId, secretKey } of opened) {
        const sealed = sealSecret(keyring.current, accessKeyId, secretKey);
        await trx
          .updateTable('access_keys')
          .set({ secret_nonce: sealed.nonce, secret_ciphertext: sealed.ciphertext, secret_tag: sealed.tag, master_key_id: keyring.currentId })
          .where('access_key_id', '=', accessKeyId)
          .execute();
      }
      return { masterKeyId: keyring.currentId, resealed: stale.length, alreadyCurrent: rows.length - stale.length };
    });
  }

  /** Which master keys the stored secrets need: what decides when a retired key may go. */
  async masterKeyUsage(): Promise<MasterKeyUsage> {
    const [recorded, unrecorded] = await Promise.all([
      this.store.run((db) =>
        db
          .selectFrom('access_keys')
          .select((eb) => ['master_key_id', eb.fn.countAll<number>().as('n')])
          .where('master_key_id', 'is not', null)
          .groupBy('master_key_id')
          .execute(),
      ),
      this.store.run((db) =>
        db
          .selectFrom('access_keys')
          .select(['access_key_id', 'master_key_id', 'secret_nonce', 'secret_ciphertext', 'secret_tag'])
          .where('master_key_id', 'is', null)
          .execute(),
      ),
    ]);
    const rowsByKey: Record<string, number> = {};
    for (const { master_key_id: id, n } of recorded) rowsByKey[id as string] = Number(n);
    let unrecordedUnreadable = 0;
    for (const row of unrecorded) {
      try {
        const { masterKeyId: id } = unsealWithKeyring(this.keyring, row.access_key_id, null, sealedOf(row));
        rowsByKey[id] = (rowsByKey[id] ?? 0) + 1;
      } catch (err) {
        if (!(err instanceof SecretUnreadableError)) throw err;
        unrecordedUnreadable++;
      }
    }
    return { rowsByKey, unrecorded: unrecorded.length, unrecordedUnreadable };
  }

  /** Idempotent, as a shutdown hook and a finally may both call it. */
  close(): Promise<void> {
    this.closing ??= this.store.close();
    return this.closing;
  }
}
