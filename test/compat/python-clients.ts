/**
 * The Python clients of the compatibility tests (python-cinderclient,
 * openstacksdk), installed from PyPI into .tools/compat-venv (git-ignored)
 * at the versions pinned in test/compat/requirements.txt, and a runner for
 * the procedure scripts beside this file.
 *
 * The venv is built once and reused while requirements.txt and the Python
 * stay the same (a stamp file records both): a warm run starts nothing but
 * the scripts. Concurrent test files (or runs) build it at most once: the
 * build holds a lock directory. Wheels only (no source builds), so an
 * install either works quickly or fails at once.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { InventoryClient } from '../../libs/inventory-client/src/inventory.client';
import { harnessInventory } from '../support/inventory';
import { ROOT_DIR, testStack } from '../support/stack';
import { issueToken, uniqueProjectId } from '../support/tenants';

const run = promisify(execFile);

export const COMPAT_DIR = path.join(ROOT_DIR, 'test/compat');
export const COMPAT_VENV = path.join(ROOT_DIR, '.tools/compat-venv');
const REQUIREMENTS = path.join(COMPAT_DIR, 'requirements.txt');
const STAMP = path.join(COMPAT_VENV, '.evs-requirements.sha256');
const LOCK = `${COMPAT_VENV}.lock`;
const LOCK_STALE_MS = 10 * 60_000;
const LOCK_WAIT_MS = 5 * 60_000;
const BASE_PYTHON = process.env.EVS_PYTHON ?? 'python3';

async function wantedStamp(): Promise<string> {
  const { stdout } = await run(BASE_PYTHON, ['-c', 'import sys; print(sys.version)']);
  return createHash('sha256').update(fs.readFileSync(REQUIREMENTS)).update(stdout).digest('hex');
}

function currentStamp(): string | null {
  try {
    return fs.readFileSync(STAMP, 'utf8').trim();
  } catch {
    return null;
  }
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (fs.statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) fs.rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`${LOCK} is held by another build; remove it if none runs`);
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

/** The venv's python, after building the venv if it is missing or out of date. */
export async function compatPython(): Promise<string> {
  const python = path.join(COMPAT_VENV, 'bin', 'python');
  const wanted = await wantedStamp();
  if (currentStamp() === wanted && fs.existsSync(python)) return python;
  return withLock(async () => {
    if (currentStamp() === wanted && fs.existsSync(python)) return python; // built while we waited
    fs.rmSync(COMPAT_VENV, { recursive: true, force: true });
    await run(BASE_PYTHON, ['-m', 'venv', COMPAT_VENV]);
    await run(
      python,
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '--only-binary=:all:', '-r', REQUIREMENTS],
      { maxBuffer: 16 * 1024 * 1024, timeout: 240_000 },
    );
    fs.writeFileSync(STAMP, `${wanted}\n`);
    return python;
  });
}

export interface StepError {
  type: string;
  module: string;
  code?: number;
  message?: string;
  request_id?: string | null;
  text: string;
}

export type Step = { step: string; ok: true; value: any } | { step: string; ok: false; error: StepError };

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  status: number;
  /** Whether X-Auth-Token was sent. */
  token: boolean;
  /** The OpenStack-API-Version header sent, if any. */
  api_version: string | null;
  /** X-OpenStack-Request-Id of the answer. */
  request_id: string | null;
}

export interface ProcedureReport {
  client: { name: string; version: string; keystoneauth1: string; api_version: string };
  steps: Step[];
  requests: RecordedRequest[];
}

export interface ProcedureInputs {
  gatewayUrl: string;
  projectA: string;
  tokenA: string;
  projectB: string;
  tokenB: string;
  /** Transferred to B and accepted. */
  volumeId: string;
  /** Transferred, then deleted. */
  volumeId2: string;
  apiVersion?: string;
}

/** Runs test/compat/<script> with the venv's python; returns its report. */
export async function runProcedure(python: string, script: string, inputs: ProcedureInputs): Promise<ProcedureReport> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    // No __pycache__ in the work tree.
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    EVS_GATEWAY_URL: inputs.gatewayUrl,
    EVS_PROJECT_A: inputs.projectA,
    EVS_TOKEN_A: inputs.tokenA,
    EVS_PROJECT_B: inputs.projectB,
    EVS_TOKEN_B: inputs.tokenB,
    EVS_VOLUME_ID: inputs.volumeId,
    EVS_VOLUME_ID_2: inputs.volumeId2,
    ...(inputs.apiVersion === undefined ? {} : { EVS_API_VERSION: inputs.apiVersion }),
  };
  try {
    const { stdout } = await run(python, [path.join(COMPAT_DIR, script)], {
      cwd: COMPAT_DIR,
      env,
      timeout: 90_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout) as ProcedureReport;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${script} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`, { cause: err });
  }
}

/** The steps by name. */
export function stepsByName(report: ProcedureReport): Record<string, Step> {
  return Object.fromEntries(report.steps.map((s) => [s.step, s]));
}

/** `METHOD path status`, with the given ids replaced by their names, e.g. `GET /v3/{A}/os-volume-transfer/{T} 200`. */
export function requestLines(report: ProcedureReport, names: Record<string, string>): string[] {
  return report.requests.map((r) => {
    let p = r.path;
    for (const [name, id] of Object.entries(names)) p = p.split(id).join(`{${name}}`);
    return `${r.method} ${p} ${r.status}`;
  });
}

export const CINDER_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;
export const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The test stack's inventory, to set disks up and check who owns them. */
export function compatInventory(): InventoryClient {
  return harnessInventory();
}

/** The value a step returned; fails the test if the step failed. */
export function stepValue(step: Step | undefined): any {
  if (!step?.ok) throw new Error(`step failed: ${JSON.stringify(step)}`);
  return step.value;
}

/** The error a step raised; fails the test if the step succeeded. */
export function stepFailure(step: Step | undefined): StepError {
  if (step === undefined || step.ok) throw new Error(`step did not fail: ${JSON.stringify(step)}`);
  return step.error;
}

/**
 * Two fresh projects with tokens, and two disks of A's (one to accept, one
 * to delete): everything a seed-procedure script needs but the gateway URL.
 */
export async function seedProcedureInputs(label: string): Promise<Omit<ProcedureInputs, 'apiVersion'>> {
  const stack = testStack();
  const inventory = compatInventory();
  const projectA = uniqueProjectId(`${label}-a`);
  const projectB = uniqueProjectId(`${label}-b`);
  const disk = await inventory.createVolume(projectA, { size: 10, name: 'compat-1' });
  const disk2 = await inventory.createVolume(projectA, { size: 10, name: 'compat-2' });
  return {
    gatewayUrl: stack.gatewayUrl,
    projectA,
    tokenA: await issueToken(projectA, 'alice'),
    projectB,
    tokenB: await issueToken(projectB, 'bob'),
    volumeId: disk.id,
    volumeId2: disk2.id,
  };
}
