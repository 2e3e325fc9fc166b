/**
 * Starts the cluster topology once per run of the cluster project, on a
 * wiped data folder, and stops it afterwards (EVS_TEST_KEEP_STACK=1 keeps it;
 * EVS_TEST_STACK=external uses one already running and touches nothing).
 */
import { clusterScript } from './cluster';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.EVS_TEST_STACK === 'external') return undefined;
  await clusterScript(['stop', '--reset']).catch(() => undefined);
  try {
    await clusterScript(['start'], 600_000);
  } catch (error) {
    if (process.env.EVS_TEST_KEEP_STACK !== '1') await clusterScript(['stop']).catch(() => undefined);
    throw error;
  }
  return async () => {
    if (process.env.EVS_TEST_KEEP_STACK !== '1') await clusterScript(['stop']);
  };
}
