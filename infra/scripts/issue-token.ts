/**
 * Prints an X-Auth-Token signed by the local development issuer:
 *
 *   npm run -s token -- --project <project id> --user <user id> [--roles member,reader] [--ttl 3600]
 *
 * Roles are comma-separated, default member; reader may only list and show,
 * admin may also list every project's transfers and force-delete any
 * (docs/api.md, Authorization).
 *
 * Creates the issuer's key pair on first use (same files the gateway
 * verifies against), so it works before the gateway has ever started.
 * Settings (DATA_DIR, JWT_ISSUER, JWT_AUDIENCE...) come from the environment
 * through loadConfig, like every other process.
 */
import { parseArgs } from 'node:util';
import { LocalTokenIssuer } from '../../libs/auth/src/local-issuer';
import { loadConfig } from '../../libs/config/src/config';

const USAGE =
  'usage: npm run -s token -- --project <project id> --user <user id> [--roles member,reader] [--ttl <seconds>]\n';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      project: { type: 'string' },
      user: { type: 'string' },
      roles: { type: 'string', default: 'member' },
      ttl: { type: 'string', default: '3600' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!values.project || !values.user) throw new UsageError('--project and --user are required');
  const ttlSeconds = Number(values.ttl);
  const roles = values.roles
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const config = loadConfig();
  const issuer = LocalTokenIssuer.open(config.auth);
  const token = await issuer.issueToken({ projectId: values.project, userId: values.user, roles, ttlSeconds });
  process.stdout.write(`${token}\n`);
}

class UsageError extends Error {}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`issue-token: ${message}\n${err instanceof UsageError || err instanceof TypeError ? USAGE : ''}`);
  process.exit(2);
});
