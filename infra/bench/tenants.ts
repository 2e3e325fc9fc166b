/**
 * The benchmark's tenants: for each client an owner project and a recipient
 * project, with tokens from the stack's local issuer, and the owner's disks
 * made beforehand through the inventory's own tenant API (1 GiB each, so
 * quotas are never what the benchmark measures).
 */
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../../libs/config/src/config';
import { LocalTokenIssuer } from '../../libs/auth/src/local-issuer';
import { InventoryClient } from '../../libs/inventory-client/src/inventory.client';
import { inParallel } from './in-parallel';

export interface BenchProject {
  projectId: string;
  token: string;
}

export interface ClientPair {
  owner: BenchProject;
  recipient: BenchProject;
  /** Fresh disks of the owner's, used one per transfer. */
  disks: string[];
}

const TOKEN_TTL_SECONDS = 12 * 3600;

export class BenchTenants {
  private readonly inventory: InventoryClient;
  private readonly tokens = new Map<string, string>();
  /** Disks made while the load ran, because a client used up what was prepared. */
  disksMadeDuringRun = 0;

  private constructor(
    private readonly issuer: LocalTokenIssuer,
    inventoryUrl: string,
    private readonly runId: string,
  ) {
    this.inventory = new InventoryClient(inventoryUrl, { tenantToken: (projectId) => this.tokens.get(projectId) ?? '' });
  }

  static open(config: AppConfig): BenchTenants {
    return new BenchTenants(LocalTokenIssuer.open(config.auth), config.inventory.url, randomUUID().slice(0, 8));
  }

  async project(label: string, roles: string[] = ['member']): Promise<BenchProject> {
    const projectId = `bench-${this.runId}-${label}`;
    const token = await this.issuer.issueToken({ projectId, userId: `${label}-user`, roles, ttlSeconds: TOKEN_TTL_SECONDS });
    this.tokens.set(projectId, token);
    return { projectId, token };
  }

  /** `count` pairs, each owner with `disksEach` disks, made `parallel` at a time. */
  async pairs(prefix: string, count: number, disksEach: number, parallel = 8): Promise<ClientPair[]> {
    const pairs: ClientPair[] = [];
    for (let i = 0; i < count; i++) {
      pairs.push({ owner: await this.project(`${prefix}${i}-a`), recipient: await this.project(`${prefix}${i}-b`), disks: [] });
    }
    const jobs = pairs.flatMap((pair) => Array.from({ length: disksEach }, () => pair));
    await inParallel(jobs, parallel, async (pair) => {
      pair.disks.push(await this.makeDisk(pair.owner.projectId));
    });
    return pairs;
  }

  /** A fresh disk for the pair: a prepared one, or one made now (and counted). */
  async nextDisk(pair: ClientPair): Promise<string> {
    const prepared = pair.disks.pop();
    if (prepared !== undefined) return prepared;
    this.disksMadeDuringRun++;
    return this.makeDisk(pair.owner.projectId);
  }

  async makeDisk(projectId: string): Promise<string> {
    return (await this.inventory.createVolume(projectId, { size: 1, name: 'bench' })).id;
  }
}
