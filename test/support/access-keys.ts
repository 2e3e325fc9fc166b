/**
 * Access keys on the test stack, made the way an operator makes them: with
 * the access-keys command (infra/run-script.sh, what `npm run -s access-keys`
 * runs, without npm's own second of start-up) on the stack's data folder.
 * The gateway reads the same store on every signed request, so a key works,
 * and a revocation holds, from the next request on.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT_DIR, testEnv } from './stack';
import type { SigningKey } from './sdk-signer';

const run = promisify(execFile);

export interface TestAccessKey extends SigningKey {
  projectId: string;
  userId: string;
}

async function accessKeys(args: string[]): Promise<any> {
  const { stdout } = await run('bash', ['infra/run-script.sh', 'access-keys', ...args], { cwd: ROOT_DIR, env: testEnv(), timeout: 30_000 });
  return JSON.parse(stdout);
}

export async function createAccessKey(projectId: string, userId: string, roles = ['member']): Promise<TestAccessKey> {
  const created = await accessKeys(['create', '--project', projectId, '--user', userId, '--roles', roles.join(','), '--description', 'e2e']);
  return { accessKeyId: created.access_key, secretKey: created.secret_key, projectId, userId };
}

export async function listAccessKeys(projectId: string): Promise<any[]> {
  return (await accessKeys(['list', '--project', projectId])).access_keys;
}

export async function revokeAccessKey(accessKeyId: string): Promise<void> {
  await accessKeys(['revoke', '--access-key', accessKeyId]);
}
