/**
 * The Python clients of the compatibility tests (python-cinderclient,
 * openstacksdk, the Huawei Cloud SDK), installed from PyPI into
 * .tools/compat-venv-<hash> (git-ignored) at the versions pinned in
 * test/compat/requirements.txt, and a runner for the procedure scripts
 * beside this file.
 *
 * There is one venv per requirements.txt and Python (the hash is of both),
 * built once and then reused: a warm run starts nothing but the scripts.
 * .tools may be shared by several checkouts of the repository, and one with
 * other pins must not rebuild a venv under another's running tests.
 * Concurrent test files (or runs) build it at most once: the build holds a
 * lock directory. Wheels only (no source builds), so an install either
 * works quickly or fails at once.
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
const VENV_PREFIX = path.join(ROOT_DIR, '.tools/compat-venv');
const REQUIREMENTS = path.join(COMPAT_DIR, 'requirements.txt');
const STAMP_FILE = '.evs-requirements.sha256';
const LOCK_STALE_MS = 10 * 60_000;
const LOCK_WAIT_MS = 5 * 60_000;
const BASE_PYTHON = process.env.EVS_PYTHON ?? 'python3';

async function wantedStamp(): Promise<string> {
  const { stdout } = await run(BASE_PYTHON, ['-c', 'import sys; print(sys.version)']);
  return createHash('sha256').update(fs.readFileSync(REQUIREMENTS)).update(stdout).digest('hex');
}

/** The stamp a finished build leaves; absent while a build runs or after one failed. */
function currentStamp(venv: string): string | null {
  try {
    return fs.readFileSync(path.join(venv, STAMP_FILE), 'utf8').trim();
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

/** The venv's python, after building the venv if it is missing or out of date. */
export async function compatPython(): Promise<string> {
  const wanted = await wantedStamp();
  const venv = `${VENV_PREFIX}-${wanted.slice(0, 12)}`;
  const python = path.join(venv, 'bin', 'python');
  if (currentStamp(venv) === wanted && fs.existsSync(python)) return python;
  return withLock(`${venv}.lock`, async () => {
    if (currentStamp(venv) === wanted && fs.existsSync(python)) return python; // built while we waited
    fs.rmSync(venv, { recursive: true, force: true });
    await run(BASE_PYTHON, ['-m', 'venv', venv]);
    await run(
      python,
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '--only-binary=:all:', '-r', REQUIREMENTS],
      { maxBuffer: 16 * 1024 * 1024, timeout: 240_000 },
    );
    fs.writeFileSync(path.join(venv, STAMP_FILE), `${wanted}\n`);
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
  /** Whether it was signed with an access key (Authorization: SDK-HMAC-SHA256 ...). */
  signed: boolean;
  /** The OpenStack-API-Version header sent, if any. */
  api_version: string | null;
  /** X-OpenStack-Request-Id of the answer. */
  request_id: string | null;
}

export interface ProcedureReport {
  /** The client's name and version, and the versions of what it is built on. */
  client: { name: string; version: string; [library: string]: string };
  steps: Step[];
  requests: RecordedRequest[];
}

/** Who and what a procedure works on: two projects and two disks of A's. */
export interface ProcedureSeed {
  gatewayUrl: string;
  projectA: string;
  projectB: string;
  /** Transferred to B and accepted. */
  volumeId: string;
  /** Transferred, then deleted. */
  volumeId2: string;
}

export interface ProcedureInputs extends ProcedureSeed {
  tokenA: string;
  tokenB: string;
  apiVersion?: string;
}

/** The seed as the scripts read it (compat_common.py). */
export function seedVariables(seed: ProcedureSeed): Record<string, string> {
  return {
    EVS_GATEWAY_URL: seed.gatewayUrl,
    EVS_PROJECT_A: seed.projectA,
    EVS_PROJECT_B: seed.projectB,
    EVS_VOLUME_ID: seed.volumeId,
    EVS_VOLUME_ID_2: seed.volumeId2,
  };
}

/** Runs a token-authenticated procedure script (cinderclient, openstacksdk); returns its report. */
export function runProcedure(python: string, script: string, inputs: ProcedureInputs): Promise<ProcedureReport> {
  return runScript(python, script, {
    ...seedVariables(inputs),
    EVS_TOKEN_A: inputs.tokenA,
    EVS_TOKEN_B: inputs.tokenB,
    ...(inputs.apiVersion === undefined ? {} : { EVS_API_VERSION: inputs.apiVersion }),
  });
}

/** Runs test/compat/<script> with the venv's python and the given EVS_* variables; returns its report. */
export async function runScript(python: string, script: string, variables: Record<string, string>): Promise<ProcedureReport> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    // No __pycache__ in the work tree.
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    ...variables,
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

/** Two fresh projects and two disks of A's (one to accept, one to delete) on the test stack. */
export async function seedProcedure(label: string): Promise<ProcedureSeed> {
  const inventory = compatInventory();
  const projectA = uniqueProjectId(`${label}-a`);
  const projectB = uniqueProjectId(`${label}-b`);
  const disk = await inventory.createVolume(projectA, { size: 10, name: 'compat-1' });
  const disk2 = await inventory.createVolume(projectA, { size: 10, name: 'compat-2' });
  return { gatewayUrl: testStack().gatewayUrl, projectA, projectB, volumeId: disk.id, volumeId2: disk2.id };
}

/** The seed with a token for each project: everything a token-authenticated script needs but the API version. */
export async function seedProcedureInputs(label: string): Promise<Omit<ProcedureInputs, 'apiVersion'>> {
  const seed = await seedProcedure(label);
  return { ...seed, tokenA: await issueToken(seed.projectA, 'alice'), tokenB: await issueToken(seed.projectB, 'bob') };
}
