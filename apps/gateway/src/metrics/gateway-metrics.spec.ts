import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerPendingTransferGauges } from './gateway-metrics';

describe('registerPendingTransferGauges', () => {
  it('reports the count, the oldest age and how long ago the earliest expiry passed, from one read per scrape', async () => {
    const registry = new Registry();
    const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
    let reads = 0;
    registerPendingTransferGauges(
      registry,
      async () => {
        reads += 1;
        return { count: 3, oldestCreatedAtMs: NOW - 90_000, earliestExpiresAtMs: NOW - 30_000 };
      },
      () => NOW,
    );
    const text = await registry.metrics();
    expect(text).toMatch(/^evs_transfers_pending 3$/m);
    expect(text).toMatch(/^evs_transfer_oldest_pending_age_seconds 90$/m);
    expect(text).toMatch(/^evs_transfer_pending_past_expiry_seconds 30$/m);
    expect(reads).toBe(1);
  });

  it('reports zeros rather than nothing when no transfer is pending, and no overdue time for an expiry still ahead', async () => {
    const registry = new Registry();
    const NOW = 1_000_000;
    registerPendingTransferGauges(registry, async () => ({ count: 1, oldestCreatedAtMs: NOW, earliestExpiresAtMs: NOW + 60_000 }), () => NOW);
    expect(await registry.metrics()).toMatch(/^evs_transfer_pending_past_expiry_seconds 0$/m);
  });
});
