import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerOutboxGauges } from './outbox-gauges';

describe('registerOutboxGauges', () => {
  it('reports the depth and the age of the oldest record under the outbox’s name, 0 when empty', async () => {
    const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
    let rows = [{ record: { event: { time: new Date(NOW - 45_000).toISOString() } } }];
    const registry = new Registry();
    registerOutboxGauges(registry, 'transfer-events', { count: async () => rows.length * 7, oldest: async () => rows }, () => NOW);
    let text = await registry.metrics();
    expect(text).toMatch(/^evs_outbox_depth\{outbox="transfer-events"\} 7$/m);
    expect(text).toMatch(/^evs_outbox_oldest_age_seconds\{outbox="transfer-events"\} 45$/m);
    rows = [];
    text = await registry.metrics();
    expect(text).toMatch(/^evs_outbox_oldest_age_seconds\{outbox="transfer-events"\} 0$/m);
  });
});
