/**
 * The Python clients of the compatibility tests (python-cinderclient,
 * openstacksdk, the Huawei Cloud SDK), installed into .tools/compat-venv at the versions pinned
 * in test/compat/requirements.txt (test/support/python-venv.ts), and a
 * runner for the procedure scripts beside this file.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { InventoryClient } from '../../libs/inventory-client/src/inventory.client';
import { harnessInventory } from '../support/inventory';
import { ensureVenv } from '../support/python-venv';
import { ROOT_DIR, testStack } from '../support/stack';
import { issueToken, uniqueProjectId } from '../support/tenants';

const run = promisify(execFile);

export const COMPAT_DIR = path.join(ROOT_DIR, 'test/compat');

/** The venv's python, after building the venv if it is missing or out of date. */
export async function compatPython(): Promise<string> {
  const dir = await ensureVenv({ name: 'compat-venv', requirements: path.join(COMPAT_DIR, 'requirements.txt') });
  return path.join(dir, 'bin', 'python');
}

/** The python of the venv holding python-openstackclient and tempest (test/compat/requirements-osc.txt). */
export async function oscPython(): Promise<string> {
  const dir = await ensureVenv({ name: 'osc-venv', requirements: path.join(COMPAT_DIR, 'requirements-osc.txt') });
  return path.join(dir, 'bin', 'python');
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

/** The test stack's gateway. */
export function testStackGatewayUrl(): string {
  return testStack().gatewayUrl;
}

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
