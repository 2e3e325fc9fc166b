import { describe, expect, it } from 'vitest';
import { quotaRefusal } from './quota.repository';

describe('quotaRefusal', () => {
  const used = { volumes: 2, gigabytes: 40 };

  it('lets a disk in that fits both limits, exactly up to them', () => {
    expect(quotaRefusal('p1', { volumes: 3, gigabytes: 50 }, used, 10)).toBeNull();
  });

  it('treats -1 as unlimited', () => {
    expect(quotaRefusal('p1', { volumes: -1, gigabytes: -1 }, { volumes: 1e6, gigabytes: 1e9 }, 1e6)).toBeNull();
  });

  it('names each limit the disk would pass, in one QuotaExceeded', () => {
    expect(quotaRefusal('p1', { volumes: 2, gigabytes: 45 }, used, 10)).toEqual({
      name: 'QuotaExceeded',
      message: 'The quota of project p1 would be exceeded: volumes 3 > limit 2, gigabytes 50 > limit 45.',
    });
    expect(quotaRefusal('p1', { volumes: -1, gigabytes: 45 }, used, 10)?.message).toMatch(/: gigabytes 50 > limit 45\.$/);
  });
});
