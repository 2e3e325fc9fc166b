import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../../libs/domain/src/errors';
import { nextPageHref, pageOf, parseCinderListQuery, type SortKey } from './cinder-list';

interface Row {
  id: string;
  name: string | null;
  created: number;
}
const ROWS: Row[] = [
  { id: 'a', name: 'x', created: 3 },
  { id: 'b', name: 'y', created: 1 },
  { id: 'c', name: null, created: 2 },
  { id: 'd', name: 'x', created: 2 },
];
const KEYS = ['id', 'name', 'created_at'];
const DEFAULT: SortKey[] = [{ key: 'created_at', dir: 'desc' }];
const value = (r: Row, key: string) => (key === 'name' ? r.name : r.created);
const ids = (query: Record<string, string>) => pageOf(ROWS, parseCinderListQuery(query, KEYS, DEFAULT), value, (r) => r.id).items.map((r) => r.id);
const refusal = (query: Record<string, unknown>) => {
  try {
    pageOf(ROWS, parseCinderListQuery(query, KEYS, DEFAULT), value, (r) => r.id);
  } catch (err) {
    return err instanceof DomainError ? [err.errorName, err.message] : err;
  }
  return null;
};

describe('Cinder list paging', () => {
  it('sorts by the defaults, the id breaking ties in the last key’s direction', () => {
    expect(ids({})).toEqual(['a', 'd', 'c', 'b']);
  });

  it.each([
    [{ sort: 'name:asc,created_at:desc' }, ['c', 'a', 'd', 'b']],
    [{ sort: 'name' }, ['b', 'd', 'a', 'c']],
    [{ sort: 'id:asc' }, ['a', 'b', 'c', 'd']],
    [{ sort_key: 'id', sort_dir: 'desc' }, ['d', 'c', 'b', 'a']],
    [{ sort_key: 'created_at', sort_dir: 'asc' }, ['b', 'c', 'd', 'a']],
  ])('sorts as %j asks', (query, expected) => {
    expect(ids(query)).toEqual(expected);
  });

  it('pages with marker, limit and offset, and says when the page is full', () => {
    expect(ids({ sort: 'id:asc', marker: 'a', limit: '2' })).toEqual(['b', 'c']);
    expect(ids({ sort: 'id:asc', marker: 'a', offset: '1', limit: '5' })).toEqual(['c', 'd']);
    const q = parseCinderListQuery({ sort: 'id:asc', limit: '2' }, KEYS, DEFAULT);
    expect(pageOf(ROWS, q, value, (r) => r.id).full).toBe(true);
    expect(pageOf(ROWS, { ...q, limit: 5 }, value, (r) => r.id).full).toBe(false);
  });

  it.each([
    [{ sort: 'size' }, /Invalid sort key 'size'/],
    [{ sort: 'id:sideways' }, /direction/],
    [{ sort: 'id', sort_key: 'name' }, /cannot be used with the 'sort' parameter/],
    [{ sort: 'id,id' }, /twice/],
    [{ marker: 'zzz' }, /marker/],
    [{ limit: '0' }, /limit/],
    [{ limit: '1001' }, /limit/],
    [{ offset: '-1' }, /offset/],
    [{ limit: ['1', '2'] }, /once/],
  ])('refuses %j with a 400 that says why', (query, message) => {
    const [name, text] = refusal(query) as [string, string];
    expect(name).toBe('BadRequest');
    expect(text).toMatch(message);
  });

  it('never quotes an odd sort key back', () => {
    const [, text] = refusal({ sort: '<b>x</b>' }) as [string, string];
    expect(text).not.toContain('<b>');
  });

  it('builds the next link from the query, the marker moved to the last item', () => {
    expect(nextPageHref('https://h/v3/p/volume-transfers', { limit: '2', marker: 'a', offset: '3', sort: 'id:asc' }, 'c')).toBe(
      'https://h/v3/p/volume-transfers?limit=2&sort=id%3Aasc&marker=c',
    );
  });
});
