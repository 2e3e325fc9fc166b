/**
 * Starts the test stack (infra/up.sh with EVS_ENV=test) once per run of the
 * integration project and stops it afterwards.
 *   EVS_TEST_STACK=external   use a stack that is already running; start and stop nothing
 *   EVS_TEST_KEEP_STACK=1     leave the stack running after the run (faster reruns)
 * SKIP_BUILD defaults to 1: infra/test.sh has built already.
 */
import { spawn } from 'node:child_process';
import { startOtlpReceiver } from './otlp-receiver';
import { ROOT_DIR, testEnv } from './stack';

function runScript(script: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], {
      cwd: ROOT_DIR,
      env: { ...process.env, EVS_ENV: 'test', ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${script} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

const keepStack = () => process.env.EVS_TEST_KEEP_STACK === '1';

async function stopStack(): Promise<void> {
  await runScript('infra/down.sh', {});
}

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  // Where the stack's processes send the traces the tracing test asks for (infra/env/test.env).
  const receiver = await startOtlpReceiver(Number(testEnv().TEST_OTLP_PORT));
  if (process.env.EVS_TEST_STACK === 'external') return () => receiver.close();
  try {
    await runScript('infra/up.sh', { SKIP_BUILD: process.env.SKIP_BUILD ?? '1' });
  } catch (error) {
    if (!keepStack()) await stopStack().catch(() => undefined);
    await receiver.close();
    throw error;
  }
  return async () => {
    if (!keepStack()) await stopStack();
    await receiver.close();
  };
}
