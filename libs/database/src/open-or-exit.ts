/**
 * For a process's start: a store that cannot be opened (wrong URL, server
 * unreachable, schema refused), or a server that is not as the process needs
 * it, ends the process with one line naming what and why. Nest would otherwise log the error's stack
 * and go on tearing down, which buries the one fact an operator needs.
 */
import { ConfigError, StartupError } from '../../config/src/config';
import { DatabaseStartError } from './store-database';

export async function openOrExit<T>(open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    if (err instanceof DatabaseStartError || err instanceof ConfigError || err instanceof StartupError) {
      process.stderr.write(`cannot start: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
