import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { describeGap, isProvisioned, provisioningGap, untestedVersionWarning, WANTED_SEARCH_ATTRIBUTES } from './provisioning';

const { INDEXED_VALUE_TYPE_KEYWORD: KEYWORD, INDEXED_VALUE_TYPE_TEXT: TEXT } = temporal.api.enums.v1.IndexedValueType;
const all = () => new Map([...WANTED_SEARCH_ATTRIBUTES.keys()].map((name) => [name, KEYWORD]));
const where = { address: 'temporal:7233', namespace: 'evs' };

describe('provisioning', () => {
  it('finds nothing missing when the namespace has every attribute with its type', () => {
    expect(isProvisioned(provisioningGap(true, all()))).toBe(true);
  });

  it('names a missing namespace, missing attributes and the command that creates them', () => {
    const gap = provisioningGap(false, new Map());
    expect(isProvisioned(gap)).toBe(false);
    const line = describeGap(gap, where);
    expect(line).toMatch(/^Temporal at temporal:7233 is not provisioned: namespace evs does not exist; search attributes missing: EvsTransferId, /);
    expect(line).toContain('npm run provision:temporal');
    expect(line).not.toContain('\n');
  });

  it('leaves an attribute of another type to an operator: no command would fix it', () => {
    const registered = all();
    registered.set('EvsDiskId', TEXT);
    const gap = provisioningGap(true, registered);
    expect(gap.wrongTypes).toEqual([{ name: 'EvsDiskId', registered: 'TEXT', wanted: 'KEYWORD' }]);
    expect(describeGap(gap, where)).not.toContain('provision:temporal');
  });

  it('reports a server version it was not tested against, and only then', () => {
    expect(untestedVersionWarning('1.32.0')).toBeNull();
    expect(untestedVersionWarning('1.20.4')).toMatch(/1\.20\.4 is not one the service was tested against/);
    expect(untestedVersionWarning('')).toMatch(/did not say its version/);
  });
});
