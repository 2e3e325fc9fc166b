/**
 * What a Temporal server must hold before transfers can run on it: our
 * namespace, and our search attributes registered in it with their types.
 * The dev server is given them by flags; a server of one's own or Temporal
 * Cloud has them created through the operator API, by
 * `npm run provision:temporal` or by the worker at start when
 * TEMPORAL_PROVISION=1. Otherwise the worker refuses to start with one line
 * naming what is missing: a missing search attribute must never first show up
 * as a workflow failing in production.
 */
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { type AppConfig, StartupError } from '../../config/src/config';
import { SEARCH_ATTRIBUTES } from './transfer.definitions';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/** Our attributes as the operator API names their types. */
export const WANTED_SEARCH_ATTRIBUTES: ReadonlyMap<string, number> = new Map(
  Object.values(SEARCH_ATTRIBUTES).map((key) => [key.name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
);

export interface ProvisioningGap {
  namespaceMissing: boolean;
  missingAttributes: string[];
  /** Registered under our name with another type: only an operator can sort that out. */
  wrongTypes: { name: string; registered: string; wanted: string }[];
}

const typeName = (type: number) => (IndexedValueType[type] ?? String(type)).replace('INDEXED_VALUE_TYPE_', '');

/** Pure: what is missing, given whether the namespace exists and which custom attributes it has. */
export function provisioningGap(namespaceExists: boolean, registered: ReadonlyMap<string, number>): ProvisioningGap {
  const missingAttributes: string[] = [];
  const wrongTypes: ProvisioningGap['wrongTypes'] = [];
  for (const [name, type] of WANTED_SEARCH_ATTRIBUTES) {
    const have = registered.get(name);
    if (have === undefined) missingAttributes.push(name);
    else if (have !== type) wrongTypes.push({ name, registered: typeName(have), wanted: typeName(type) });
  }
  return { namespaceMissing: !namespaceExists, missingAttributes, wrongTypes };
}

export function isProvisioned(gap: ProvisioningGap): boolean {
  return !gap.namespaceMissing && gap.missingAttributes.length === 0 && gap.wrongTypes.length === 0;
}

/** One line for an operator: what is missing and the command that creates it. */
export function describeGap(gap: ProvisioningGap, where: { address: string; namespace: string }): string {
  const parts: string[] = [];
  if (gap.namespaceMissing) parts.push(`namespace ${where.namespace} does not exist`);
  if (gap.missingAttributes.length > 0) parts.push(`search attributes missing: ${gap.missingAttributes.join(', ')}`);
  for (const w of gap.wrongTypes) parts.push(`search attribute ${w.name} is ${w.registered}, not ${w.wanted} (rename or remove it by hand)`);
  const fix = gap.wrongTypes.length > 0 ? '' : '; create them with `npm run provision:temporal` (same settings) or start the worker with TEMPORAL_PROVISION=1';
  return `Temporal at ${where.address} is not provisioned: ${parts.join('; ')}${fix}`;
}

/** The parts of a Temporal connection this needs (the client's Connection and the worker's NativeConnection both have them). */
export interface TemporalServices {
  workflowService: temporal.api.workflowservice.v1.WorkflowService;
  operatorService: temporal.api.operatorservice.v1.OperatorService;
}

const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const grpcCode = (err: unknown) => (err as { code?: unknown }).code;

export async function inspectProvisioning(services: TemporalServices, namespace: string): Promise<ProvisioningGap> {
  let namespaceExists = true;
  try {
    await services.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (grpcCode(err) !== NOT_FOUND) throw err;
    namespaceExists = false;
  }
  const registered = new Map<string, number>();
  if (namespaceExists) {
    const { customAttributes } = await services.operatorService.listSearchAttributes({ namespace });
    for (const [name, type] of Object.entries(customAttributes ?? {})) registered.set(name, Number(type));
  }
  return provisioningGap(namespaceExists, registered);
}

/**
 * Creates what is missing (never changes what exists) and returns what is
 * still missing afterwards. A new namespace takes a moment to be usable, so
 * the attributes are added with a few tries.
 */
export async function provision(services: TemporalServices, namespace: string, options: { retentionDays: number }): Promise<ProvisioningGap> {
  let gap = await inspectProvisioning(services, namespace);
  if (gap.namespaceMissing) {
    try {
      await services.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(options.retentionDays * 86_400_000),
      });
    } catch (err) {
      if (grpcCode(err) !== ALREADY_EXISTS) throw err;
    }
  }
  for (let attempt = 1; attempt <= 20; attempt++) {
    gap = await inspectProvisioning(services, namespace).catch(() => gap);
    if (gap.namespaceMissing) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    if (gap.missingAttributes.length === 0) break;
    const searchAttributes = Object.fromEntries(gap.missingAttributes.map((name) => [name, WANTED_SEARCH_ATTRIBUTES.get(name) as number]));
    try {
      await services.operatorService.addSearchAttributes({ namespace, searchAttributes });
    } catch (err) {
      if (grpcCode(err) !== ALREADY_EXISTS && attempt === 20) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  return inspectProvisioning(services, namespace);
}

/**
 * At a process's start: creates what is missing when TEMPORAL_PROVISION=1,
 * then throws a StartupError naming whatever is still missing and the
 * command that creates it.
 */
export async function ensureProvisioned(
  services: TemporalServices,
  settings: Pick<AppConfig['temporal'], 'address' | 'namespace' | 'provision' | 'namespaceRetentionDays'>,
  log: (line: string) => void,
): Promise<void> {
  const { address, namespace } = settings;
  let gap = await inspectProvisioning(services, namespace);
  if (!isProvisioned(gap) && settings.provision) {
    log(`TEMPORAL_PROVISION=1: creating what ${namespace} lacks on ${address}`);
    gap = await provision(services, namespace, { retentionDays: settings.namespaceRetentionDays });
  }
  if (!isProvisioned(gap)) throw new StartupError(describeGap(gap, { address, namespace }));
}

/** Server versions the service was tested against (major.minor); another is reported at start, not refused. */
export const TESTED_SERVER_VERSIONS = ['1.29', '1.30', '1.31', '1.32'] as const;

export function untestedVersionWarning(serverVersion: string | null | undefined): string | null {
  if (!serverVersion) return 'Temporal did not say its version; the service was tested against server versions ' + TESTED_SERVER_VERSIONS.join(', ');
  const minor = /^v?(\d+\.\d+)/.exec(serverVersion)?.[1];
  if (minor !== undefined && (TESTED_SERVER_VERSIONS as readonly string[]).includes(minor)) return null;
  return `Temporal server ${serverVersion} is not one the service was tested against (${TESTED_SERVER_VERSIONS.join(', ')}); it should work, but watch it`;
}
