/** Progress lines (to stderr, so stdout is the table alone) and the machine the numbers come from. */
import * as os from 'node:os';

export function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}
