/**
 * Cinder's list paging and sorting (cinder/api/common.py get_sort_params and
 * get_pagination_params, and the database's paginate query), as one pure
 * function over rows already scoped to the caller's project:
 *   sort=key[:dir][,key[:dir]...]   or the older sort_key=&sort_dir=
 *   marker=<id>   the page starts after the row with this id
 *   limit=<n>     at most n rows (1 to 1000; default 1000)
 *   offset=<n>    skip n rows (after the marker)
 * The id is always the last sort key, so the order is total and a marker
 * names one position. A next link is due when the page came back full.
 * Refusals are 400s naming the parameter; a marker names no row the caller
 * can see, so another project's id reads exactly like an unknown one.
 */
import { DomainError } from '../../../../libs/domain/src/errors';

export type SortDir = 'asc' | 'desc';
export interface SortKey {
  key: string;
  dir: SortDir;
}

export interface CinderListQuery {
  sort: SortKey[];
  marker: string | null;
  limit: number;
  offset: number;
}

export const MAX_PAGE = 1000;

const badRequest = (message: string) => new DomainError('BadRequest', { message });

function single(query: Record<string, unknown>, name: string): string | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  // A repeated parameter arrives as an array: ambiguous, so refused.
  if (typeof raw !== 'string') throw badRequest(`Query parameter ${name} must be given once.`);
  return raw;
}

function integer(query: Record<string, unknown>, name: string, min: number, max: number, fallback: number): number {
  const raw = single(query, name);
  if (raw === undefined) return fallback;
  const value = /^[0-9]{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw badRequest(`Query parameter ${name} must be an integer from ${min} to ${max}.`);
  }
  return value;
}

function direction(raw: string | undefined, fallback: SortDir): SortDir {
  if (raw === undefined || raw === '') return fallback;
  const dir = raw.trim().toLowerCase();
  if (dir !== 'asc' && dir !== 'desc') throw badRequest("A sort direction must be 'asc' or 'desc'.");
  return dir;
}

/** Keys are quoted back only when short and plain. */
const PLAIN = /^[A-Za-z0-9_:.-]{1,64}$/;

function checkKey(key: string, allowed: readonly string[]): string {
  const k = key.trim();
  if (!allowed.includes(k)) {
    const named = PLAIN.test(k) ? ` '${k}'` : '';
    throw badRequest(`Invalid sort key${named}: sort by one of ${allowed.join(', ')}.`);
  }
  return k;
}

/**
 * The sort keys asked for, or `defaults`. As in Cinder, `sort` and the older
 * `sort_key`/`sort_dir` pair may not be mixed; each key's direction defaults
 * to the first default's.
 */
export function parseSort(query: Record<string, unknown>, allowed: readonly string[], defaults: readonly SortKey[]): SortKey[] {
  const sort = single(query, 'sort');
  const sortKey = single(query, 'sort_key');
  const sortDir = single(query, 'sort_dir');
  const defaultDir = defaults[0]?.dir ?? 'asc';
  if (sort !== undefined && (sortKey !== undefined || sortDir !== undefined)) {
    throw badRequest("The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
  }
  let keys: SortKey[];
  if (sort !== undefined) {
    keys = sort.split(',').map((item) => {
      const [key = '', dir, ...rest] = item.split(':');
      if (rest.length > 0) throw badRequest('Query parameter sort must be key[:dir] items separated by commas.');
      return { key: checkKey(key, allowed), dir: direction(dir, defaultDir) };
    });
  } else if (sortKey !== undefined || sortDir !== undefined) {
    const dir = direction(sortDir, defaultDir);
    keys = (sortKey ?? defaults[0]?.key ?? 'id').split(',').map((key) => ({ key: checkKey(key, allowed), dir }));
  } else {
    keys = defaults.map((k) => ({ ...k }));
  }
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k.key)) throw badRequest(`Sort key '${k.key}' is given twice.`);
    seen.add(k.key);
  }
  return keys;
}

/** The paging of a Cinder list: sort, marker, limit, offset. */
export function parseCinderListQuery(query: Record<string, unknown>, allowed: readonly string[], defaults: readonly SortKey[]): CinderListQuery {
  const sort = parseSort(query, allowed, defaults);
  const marker = single(query, 'marker');
  return {
    sort,
    marker: marker === undefined || marker === '' ? null : marker,
    limit: integer(query, 'limit', 1, MAX_PAGE, MAX_PAGE),
    offset: integer(query, 'offset', 0, Number.MAX_SAFE_INTEGER, 0),
  };
}

export type SortValue = string | number | boolean | null;

function compareValues(a: SortValue, b: SortValue): number {
  // Nulls first in ascending order, as the databases Cinder runs on sort them by default (PostgreSQL puts them last; MySQL first).
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : 1;
  return Number(a) < Number(b) ? -1 : Number(a) > Number(b) ? 1 : 0;
}

export interface Page<T> {
  items: T[];
  /** The page came back full: a client should ask for the next one, after the last item. */
  full: boolean;
}

/**
 * The page of `rows` the query asks for. `valueOf` reads a sort key's value
 * of a row; the id breaks ties (in the direction of the last key), so the
 * order is total.
 */
export function pageOf<T>(rows: readonly T[], q: CinderListQuery, valueOf: (row: T, key: string) => SortValue, idOf: (row: T) => string): Page<T> {
  const keys = q.sort.some((k) => k.key === 'id') ? q.sort : [...q.sort, { key: 'id', dir: q.sort.at(-1)?.dir ?? 'asc' }];
  const sorted = [...rows].sort((a, b) => {
    for (const { key, dir } of keys) {
      const c = key === 'id' ? compareValues(idOf(a), idOf(b)) : compareValues(valueOf(a, key), valueOf(b, key));
      if (c !== 0) return dir === 'asc' ? c : -c;
    }
    return 0;
  });
  let start = 0;
  if (q.marker !== null) {
    const at = sorted.findIndex((r) => idOf(r) === q.marker!.toLowerCase() || idOf(r) === q.marker);
    if (at < 0) throw badRequest('The marker names nothing in this list: it must be the id of an item the caller can see.');
    start = at + 1;
  }
  const items = sorted.slice(start + q.offset, start + q.offset + q.limit);
  return { items, full: items.length === q.limit };
}

/** The href of the next page: this request's path and query, with the marker moved to the last item (and no offset). */
export function nextPageHref(base: string, query: Record<string, unknown>, lastId: string): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (name === 'marker' || name === 'offset' || typeof value !== 'string') continue;
    params.append(name, value);
  }
  params.append('marker', lastId);
  return `${base}?${params.toString()}`;
}
