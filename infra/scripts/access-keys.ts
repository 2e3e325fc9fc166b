/**
 * Manages the access keys (AK/SK) that sign requests to the gateway:
 *
 *   npm run -s access-keys -- create --project <id> --user <id> [--roles member,reader] [--description <text>]
 *   npm run -s access-keys -- list --project <id>
 *   npm run -s access-keys -- revoke --access-key <AK>
 *
 * and the master key that encrypts the stored secrets (docs/deployment.md,
 * "Rotating the master key", says in which order, across hosts):
 *
 *   npm run -s access-keys -- new-master-key
 *   npm run -s access-keys -- rotate-master-key --key-id <id>
 *   npm run -s access-keys -- master-key-status
 *
 * Answers are JSON on stdout. create prints the secret key once: it is
 * stored encrypted and cannot be shown again. list never prints a secret.
 * A revocation holds from the gateway's next request on. Master keys are
 * shown by id, never by value.
 *
 * Runs through infra/run-script.sh, so the store is the gateway's own
 * (ACCESS_KEY_DATABASE_URL or DATABASE_URL, else the file in EVS_ENV's data
 * folder, and ACCESS_KEY_MASTER_KEY_FILE and ACCESS_KEY_MASTER_KEYRING_DIR,
 * through loadConfig), and works whether or not the gateway runs.
 */
import { parseArgs } from 'node:util';
import { AccessKeyStore, type AccessKeyRecord, ResealRefusedError } from '../../libs/auth/src/access-key-store';
import { generateMasterKey, isMasterKeyId, listKeyringFiles, type MasterKeyFiles, promoteMasterKey } from '../../libs/auth/src/master-keyring';
import { loadConfig } from '../../libs/config/src/config';

const USAGE = `usage:
  npm run -s access-keys -- create --project <project id> --user <user id> [--roles member,reader] [--description <text>]
  npm run -s access-keys -- list --project <project id>
  npm run -s access-keys -- revoke --access-key <access key id>
  npm run -s access-keys -- new-master-key
      a new key in the keyring folder, not used yet: copy it to every host, restart the gateways
  npm run -s access-keys -- rotate-master-key --key-id <key id>
      make that key current (the old one stays in the keyring folder) and re-seal every secret under it
  npm run -s access-keys -- master-key-status
      which keys the stored secrets need; a key no secret needs may go once every host has the new layout
`;

const COMMANDS = ['create', 'list', 'revoke', 'new-master-key', 'rotate-master-key', 'master-key-status'] as const;
type Command = (typeof COMMANDS)[number];

class UsageError extends Error {}
/** The command was understood but cannot be done (exit code 1, not 2), as is a re-seal refused. */
class RefusedError extends Error {}

function shown(record: AccessKeyRecord) {
  return {
    access_key: record.accessKeyId,
    project_id: record.projectId,
    user_id: record.userId,
    roles: record.roles,
    description: record.description,
    created_at: record.createdAt,
    revoked_at: record.revokedAt,
  };
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Every key this host holds with the number of stored secrets that need it,
 * the keys rows need that this host lacks, and the keys no row needs (which
 * may go, once no host seals under them any more).
 */
async function masterKeyStatus(store: AccessKeyStore, files: MasterKeyFiles) {
  const { keyring } = store;
  const usage = await store.masterKeyUsage();
  const fileOf = new Map(listKeyringFiles(files.keyringDir).map((f): [string, string] => [f.id, f.file]));
  fileOf.set(keyring.currentId, files.currentFile);
  const missing = Object.entries(usage.rowsByKey).filter(([id]) => keyring.key(id) === undefined);
  return {
    current_key_id: keyring.currentId,
    keys: keyring.ids.map((id) => ({
      key_id: id,
      current: id === keyring.currentId,
      file: fileOf.get(id),
      access_keys: usage.rowsByKey[id] ?? 0,
    })),
    missing_keys: missing.map(([id, n]) => ({ key_id: id, access_keys: n })),
    unrecorded_access_keys: usage.unrecorded,
    unreadable_access_keys: usage.unrecordedUnreadable + missing.reduce((sum, [, n]) => sum + n, 0),
    unused_key_ids: keyring.ids.filter((id) => id !== keyring.currentId && (usage.rowsByKey[id] ?? 0) === 0),
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      project: { type: 'string' },
      user: { type: 'string' },
      roles: { type: 'string', default: 'member' },
      description: { type: 'string', default: '' },
      'access-key': { type: 'string' },
      'key-id': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const [command, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
  if (!COMMANDS.includes(command as Command)) {
    throw new UsageError(command === undefined ? 'a command is required' : `unknown command ${command}`);
  }

  const { databases, auth } = loadConfig();
  const files: MasterKeyFiles = { currentFile: auth.accessKeyMasterKeyFile, keyringDir: auth.accessKeyMasterKeyringDir };
  const withStore = async (work: (store: AccessKeyStore) => Promise<unknown>): Promise<void> => {
    // One command, one statement at a time: a single connection is enough.
    const store = await AccessKeyStore.open(databases.accessKeys, { masterKeyFile: files.currentFile, masterKeyringDir: files.keyringDir, poolMax: 1 });
    try {
      print(await work(store));
    } finally {
      // Until its connections are closed, the process would not exit.
      await store.close();
    }
  };

  switch (command as Command) {
    case 'create': {
      if (!values.project || !values.user) throw new UsageError('create needs --project and --user');
      const { project: projectId, user: userId } = values;
      const roles = values.roles
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean);
      return withStore(async (store) => {
        const { record, secretKey } = await store.create({ projectId, userId, roles, description: values.description });
        const { revoked_at: _never, ...created } = shown(record);
        return { ...created, secret_key: secretKey };
      });
    }
    case 'list': {
      const projectId = values.project;
      if (!projectId) throw new UsageError('list needs --project');
      return withStore(async (store) => ({ access_keys: (await store.list(projectId)).map(shown) }));
    }
    case 'revoke': {
      const accessKeyId = values['access-key'];
      if (!accessKeyId) throw new UsageError('revoke needs --access-key');
      return withStore(async (store) => {
        const record = await store.revoke(accessKeyId);
        if (record === null) throw new RefusedError(`no access key ${accessKeyId}`);
        return shown(record);
      });
    }
    case 'new-master-key': {
      // Files only: no row uses the key until rotate-master-key makes it current.
      const { id, file } = generateMasterKey(files);
      print({ key_id: id, file });
      return;
    }
    case 'rotate-master-key': {
      const keyId = values['key-id'];
      if (!keyId) throw new UsageError('rotate-master-key needs --key-id (new-master-key makes one)');
      if (!isMasterKeyId(keyId)) throw new UsageError('--key-id is 16 lower-case hex digits, as new-master-key and master-key-status print it');
      // The files first, then the rows: until the re-seal commits, every row
      // is still under the previous key, which stays in the keyring folder.
      const promotion = promoteMasterKey(files, keyId);
      return withStore(async (store) => {
        const outcome = await store.resealAll();
        return {
          previous_key_id: promotion.previousId,
          current_key_id: outcome.masterKeyId,
          previous_key_file: promotion.retiredFile,
          resealed: outcome.resealed,
          already_current: outcome.alreadyCurrent,
        };
      });
    }
    case 'master-key-status':
      return withStore((store) => masterKeyStatus(store, files));
  }
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  const usage = err instanceof UsageError || (err instanceof TypeError && 'code' in err);
  process.stderr.write(`access-keys: ${message}\n${usage ? USAGE : ''}`);
  process.exit(err instanceof RefusedError || err instanceof ResealRefusedError ? 1 : 2);
});
