import { describe, expect, it } from 'vitest';
import {
  formatMicroversion,
  LEGACY_V2,
  MAX_MICROVERSION,
  negotiateMicroversion,
  negotiationFaultBody,
  supports,
  versionHeaderValue,
} from './microversion';

const served = (standard?: string[], legacy?: string[]) => {
  const n = negotiateMicroversion({ standard, legacy });
  return n.ok ? formatMicroversion(n.version) : n.refusal.status;
};

describe('microversion negotiation', () => {
  it.each([
    ['no header', undefined, undefined, '3.0'],
    ['volume 3.0', ['volume 3.0'], undefined, '3.0'],
    ['volume 3.55', ['volume 3.55'], undefined, '3.55'],
    ['volume latest', ['volume latest'], undefined, '3.59'],
    ['service name in any case', ['Volume 3.57'], undefined, '3.57'],
    ['several services in one header', ['compute 2.1, volume 3.59'], undefined, '3.59'],
    ['several header lines', ['compute 2.1', 'volume 3.57'], undefined, '3.57'],
    ['legacy header alone', undefined, ['3.59'], '3.59'],
    ['legacy header beside another service', ['compute 2.1'], ['3.55'], '3.55'],
    ['standard header wins over legacy', ['volume 3.55'], ['3.59'], '3.55'],
  ])('%s', (_label, standard, legacy, expected) => {
    expect(served(standard, legacy)).toBe(expected);
  });

  it.each([['volume 3'], ['volume 3.059'], ['volume 03.1'], ['volume three'], ['volume 3.5.1'], ['volume '], ['volume -3.1']])(
    'refuses the malformed %j with 400',
    (header) => {
      expect(served([header])).toBe(400);
    },
  );

  it.each([['volume 3.60'], ['volume 3.70'], ['volume 2.0'], ['volume 4.0'], ['volume 1.0']])('refuses %j, outside 3.0-3.59, with 406', (header) => {
    expect(served([header])).toBe(406);
  });

  it('answers 404 to a header that names only another service, as Cinder does', () => {
    expect(served(['compute 2.1'])).toBe(404);
  });

  it('words the 406 as Cinder does, in its fault body', () => {
    const n = negotiateMicroversion({ standard: ['volume 3.70'] });
    expect(n.ok).toBe(false);
    if (n.ok) return;
    expect(negotiationFaultBody(n.refusal)).toEqual({
      computeFault: { code: 406, message: 'Version 3.70 is not supported by the API. Minimum is 3.0 and maximum is 3.59.' },
    });
  });

  it('never echoes a malformed value', () => {
    const n = negotiateMicroversion({ standard: ['volume <script>'] });
    expect(n.ok).toBe(false);
    if (n.ok) return;
    expect(negotiationFaultBody(n.refusal)).toEqual({ badRequest: { code: 400, message: expect.not.stringContaining('<script>') } });
  });

  it('names the served version in the response header', () => {
    expect(versionHeaderValue(MAX_MICROVERSION)).toBe('volume 3.59');
  });
});

describe('features by microversion', () => {
  it.each([
    ['3.54', 'transferNoSnapshots', false],
    ['3.55', 'transferNoSnapshots', true],
    ['3.56', 'transferHistory', false],
    ['3.57', 'transferHistory', true],
    ['3.58', 'transferPagination', false],
    ['3.59', 'transferPagination', true],
    ['3.12', 'volumeGroupId', false],
    ['3.13', 'volumeGroupId', true],
    ['3.47', 'volumeSharedTargets', false],
    ['3.48', 'volumeSharedTargets', true],
  ] as const)('at %s, %s is %s', (version, feature, expected) => {
    const [major, minor] = version.split('.').map(Number);
    expect(supports({ major: major, minor: minor }, feature)).toBe(expected);
  });

  it('gives the legacy /v2 endpoint no v3 feature', () => {
    expect(supports(LEGACY_V2, 'transferNoSnapshots')).toBe(false);
    expect(supports(LEGACY_V2, 'volumeGroupId')).toBe(false);
  });
});
