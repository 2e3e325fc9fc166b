import { describe, expect, it } from 'vitest';
import { clusterKindOf } from './stack-processes';

describe('clusterKindOf', () => {
  it("groups a cluster host's pid file under its kind, Temporal's services all under temporal", () => {
    expect(clusterKindOf('gateway-2.pid')).toBe('gateway');
    expect(clusterKindOf('inventory-1.pid')).toBe('inventory');
    expect(clusterKindOf('temporal-history-1.pid')).toBe('temporal');
    expect(clusterKindOf('temporal-frontend-12.pid')).toBe('temporal');
  });

  it('leaves out what is not a numbered host: the Web UI server, stray files', () => {
    expect(clusterKindOf('temporal-ui.pid')).toBeNull();
    expect(clusterKindOf('gateway.pid')).toBeNull();
    expect(clusterKindOf('gateway-1.pid.tmp')).toBeNull();
  });
});
