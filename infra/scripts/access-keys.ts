/**
 * Manages the access keys (AK/SK) that sign requests to the gateway:
 *
 *   npm run -s access-keys -- create --project <id> --user <id> [--roles member,reader] [--description <text>]
 *   npm run -s access-keys -- list --project <id>
 *   npm run -s access-keys -- revoke --access-key <AK>
 *
 * Answers are JSON on stdout. create prints the secret key once: it is
 * stored encrypted and cannot be shown again. list never prints a secret.
 * A revocation holds from the gateway's next request on.
 *
 * Runs through infra/run-script.sh, so the store is the gateway's own
 * (ACCESS_KEY_DATABASE_URL or DATABASE_URL, else the file in EVS_ENV's data
 * folder, and ACCESS_KEY_MASTER_KEY_FILE, through loadConfig), and works
 * whether or not the gateway runs.
 */
import { parseArgs } from 'node:util';
import { AccessKeyStore, type AccessKeyRecord } from '../../libs/auth/src/access-key-store';
import { loadConfig } from '../../libs/config/src/config';

const USAGE = `usage:
  npm run -s access-keys -- create --project <project id> --user <user id> [--roles member,reader] [--description <text>]
  npm run -s access-keys -- list --project <project id>
  npm run -s access-keys -- revoke --access-key <access key id>
`;

class UsageError extends Error {}
/** The command was understood but cannot be done (exit code 1, not 2). */
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

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      project: { type: 'string' },
      user: { type: 'string' },
      roles: { type: 'string', default: 'member' },
      description: { type: 'string', default: '' },
      'access-key': { type: 'string' },
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
  if (command !== 'create' && command !== 'list' && command !== 'revoke') {
    throw new UsageError(command === undefined ? 'a command is required' : `unknown command ${command}`);
  }

  const { databases, auth } = loadConfig();
  // One command, one statement at a time: a single connection is enough.
  const store = await AccessKeyStore.open(databases.accessKeys, {
    masterKeyFile: auth.accessKeyMasterKeyFile,
    masterKeyringDir: auth.accessKeyMasterKeyringDir,
    poolMax: 1,
  });
  try {
    if (command === 'create') {
      if (!values.project || !values.user) throw new UsageError('create needs --project and --user');
      const roles = values.roles
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean);
      const { record, secretKey } = await store.create({ projectId: values.project, userId: values.user, roles, description: values.description });
      const { revoked_at: _never, ...created } = shown(record);
      print({ ...created, secret_key: secretKey });
    } else if (command === 'list') {
      if (!values.project) throw new UsageError('list needs --project');
      print({ access_keys: (await store.list(values.project)).map(shown) });
    } else {
      const accessKeyId = values['access-key'];
      if (!accessKeyId) throw new UsageError('revoke needs --access-key');
      const record = await store.revoke(accessKeyId);
      if (record === null) throw new RefusedError(`no access key ${accessKeyId}`);
      print(shown(record));
    }
  } finally {
    // Until its connections are closed, the process would not exit.
    await store.close();
  }
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  const usage = err instanceof UsageError || (err instanceof TypeError && 'code' in err);
  process.stderr.write(`access-keys: ${message}\n${usage ? USAGE : ''}`);
  process.exit(err instanceof RefusedError ? 1 : 2);
});
