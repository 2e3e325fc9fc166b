/**
 * Python tools the tests drive (the compatibility clients, the API fuzzer),
 * each installed from PyPI into its own git-ignored venv under .tools/ at
 * the versions pinned in a requirements file, every dependency included.
 *
 * A venv is built once and reused while its requirements file and the
 * Python stay the same (a stamp file records both): a warm run installs
 * nothing. Concurrent test files (or runs) build it at most once: the build
 * holds a lock directory. Wheels only (no source builds), so an install
 * either works quickly or fails at once.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ROOT_DIR } from './stack';

const run = promisify(execFile);

const LOCK_STALE_MS = 10 * 60_000;
const LOCK_WAIT_MS = 5 * 60_000;
const BASE_PYTHON = process.env.EVS_PYTHON ?? 'python3';

export interface PythonVenv {
  /** Under ROOT_DIR/.tools. */
  name: string;
  /** Pinned requirements, absolute. */
  requirements: string;
}

export function venvDir(venv: PythonVenv): string {
  return path.join(ROOT_DIR, '.tools', venv.name);
}

async function wantedStamp(venv: PythonVenv): Promise<string> {
  const { stdout } = await run(BASE_PYTHON, ['-c', 'import sys; print(sys.version)']);
  return createHash('sha256').update(fs.readFileSync(venv.requirements)).update(stdout).digest('hex');
}

function currentStamp(stampFile: string): string | null {
  try {
    return fs.readFileSync(stampFile, 'utf8').trim();
  } catch {
    return null;
  }
}

async function withLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) fs.rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`${lock} is held by another build; remove it if none runs`);
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** The venv's directory, after building it if it is missing or out of date. */
export async function ensureVenv(venv: PythonVenv): Promise<string> {
  const dir = venvDir(venv);
  const python = path.join(dir, 'bin', 'python');
  const stamp = path.join(dir, '.evs-requirements.sha256');
  const wanted = await wantedStamp(venv);
  if (currentStamp(stamp) === wanted && fs.existsSync(python)) return dir;
  return withLock(`${dir}.lock`, async () => {
    if (currentStamp(stamp) === wanted && fs.existsSync(python)) return dir; // built while we waited
    fs.rmSync(dir, { recursive: true, force: true });
    await run(BASE_PYTHON, ['-m', 'venv', dir]);
    await run(
      python,
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '--only-binary=:all:', '-r', venv.requirements],
      { maxBuffer: 16 * 1024 * 1024, timeout: 240_000 },
    );
    fs.writeFileSync(stamp, `${wanted}\n`);
    return dir;
  });
}
