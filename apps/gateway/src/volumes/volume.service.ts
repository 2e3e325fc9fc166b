/**
 * Cinder's volume reads (show, list, list detail) for the caller's own
 * project, served from the inventory: the disks a client must find before it
 * can create a transfer (OSC and python-cinderclient look a volume up by name
 * or id first), and the proof after an accept that the disk moved. Writes
 * stay on the inventory's own API.
 *
 * The inventory answers a project's volumes whole (a project holds few
 * disks); filtering, sorting and paging are Cinder's, done here by the one
 * list module the transfer lists use too.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../../../libs/config/src/config';
import { DomainError } from '../../../../libs/domain/src/errors';
import { isUuid } from '../../../../libs/domain/src/ids';
import { InventoryUnavailableError } from '../../../../libs/inventory-client/src/inventory.client';
import type { VolumeView } from '../../../../libs/inventory-client/src/inventory.wire';
import { APP_CONFIG, VOLUME_INVENTORY } from '../gateway.tokens';
import { nextPageHref, pageOf, parseCinderListQuery, type SortKey, type SortValue } from '../http/cinder-list';
import type { Caller } from '../transfers/caller.decorator';
import { type CinderVolume, volumeDetail, type VolumeLink, type VolumeSummary, volumeSummary, type VolumeViewContext } from './volume.presenter';

/** The one thing the gateway asks of the inventory about volumes. */
export interface VolumeInventory {
  listProjectVolumes(projectId: string): Promise<VolumeView[]>;
}

/** Cinder's sortable volume columns, as far as the inventory keeps them. */
const VOLUME_SORT_KEYS = ['id', 'name', 'status', 'size', 'created_at', 'updated_at', 'volume_type', 'bootable', 'availability_zone'] as const;
/** Cinder's default volume order: newest first. */
const VOLUME_DEFAULT_SORT: readonly SortKey[] = [{ key: 'created_at', dir: 'desc' }];

function sortValue(v: VolumeView, key: string): SortValue {
  switch (key) {
    case 'name':
      return v.name;
    case 'status':
      return v.status;
    case 'size':
      return v.size;
    case 'updated_at':
      return v.updated_at;
    case 'volume_type':
      return v.volume_type;
    case 'bootable':
      return v.bootable;
    case 'availability_zone':
      return null;
    case 'created_at':
      return v.created_at;
    default:
      return v.id;
  }
}

/** One query parameter as a plain string, or undefined (a repeated one is refused). */
function filter(query: Record<string, unknown>, name: string): string | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw new DomainError('BadRequest', { message: `Query parameter ${name} must be given once.` });
  return raw;
}

export interface VolumeList<T> {
  volumes: T[];
  volumes_links?: VolumeLink[];
}

@Injectable()
export class VolumeService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(VOLUME_INVENTORY) private readonly inventory: VolumeInventory,
  ) {}

  /** Another project's volume, or an id that is no UUID (a name), is simply not found: 404, never 403. */
  async show(caller: Caller, rawId: string | undefined): Promise<{ volume: CinderVolume }> {
    const id = isUuid(rawId) ? rawId.toLowerCase() : null;
    const volume = id === null ? undefined : (await this.projectVolumes(caller)).find((v) => v.id === id);
    if (volume === undefined) throw new DomainError('DiskNotFound', { message: 'Volume not found.' });
    caller.context.target.volumeId = volume.id;
    return { volume: volumeDetail(this.viewContext(caller), volume) };
  }

  async list(caller: Caller, query: Record<string, unknown>): Promise<VolumeList<VolumeSummary>> {
    const ctx = this.viewContext(caller);
    const page = await this.page(caller, query, false);
    return { volumes: page.volumes.map((v) => volumeSummary(ctx, v)), ...page.links };
  }

  async listDetail(caller: Caller, query: Record<string, unknown>): Promise<VolumeList<CinderVolume>> {
    const ctx = this.viewContext(caller);
    const page = await this.page(caller, query, true);
    return { volumes: page.volumes.map((v) => volumeDetail(ctx, v)), ...page.links };
  }

  /**
   * Cinder's filters `name` and `status` (exact matches; a name two volumes
   * share lists both, which is how OSC and openstacksdk tell the user the
   * name is ambiguous), then sort, marker, limit and offset.
   */
  private async page(caller: Caller, query: Record<string, unknown>, detail: boolean): Promise<{ volumes: VolumeView[]; links: { volumes_links?: VolumeLink[] } }> {
    const q = parseCinderListQuery(query, VOLUME_SORT_KEYS, VOLUME_DEFAULT_SORT);
    const name = filter(query, 'name');
    const status = filter(query, 'status');
    const matching = (await this.projectVolumes(caller)).filter(
      (v) => (name === undefined || v.name === name) && (status === undefined || v.status === status.toLowerCase()),
    );
    const page = pageOf(matching, q, sortValue, (v) => v.id);
    const last = page.items.at(-1);
    if (!page.full || last === undefined) return { volumes: page.items, links: {} };
    const ctx = this.viewContext(caller);
    const path = `${ctx.baseUrl}/${ctx.version}/${ctx.projectId}/volumes${detail ? '/detail' : ''}`;
    return { volumes: page.items, links: { volumes_links: [{ href: nextPageHref(path, query, last.id), rel: 'next' }] } };
  }

  private async projectVolumes(caller: Caller): Promise<VolumeView[]> {
    try {
      return await this.inventory.listProjectVolumes(caller.projectId);
    } catch (err) {
      if (err instanceof InventoryUnavailableError) throw new DomainError('DependencyUnavailable');
      throw err;
    }
  }

  private viewContext(caller: Caller): VolumeViewContext {
    return {
      baseUrl: caller.requestBaseUrl(this.config.gateway.publicBaseUrl),
      version: caller.version,
      microversion: caller.microversion,
      projectId: caller.projectId,
      admin: caller.principal.roles.includes('admin'),
    };
  }
}
