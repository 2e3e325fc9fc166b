import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayGuards } from '../../apps/gateway/src/guards/gateway-guards.store';
import { DIALECTS, type DisposableTarget, freshStoreTarget } from '../support/store-targets';

const POLICY = { maxFailures: 5, windowMs: 60_000 };
const T0 = Date.UTC(2026, 11, 6, 9, 0, 0);

describe.each(DIALECTS)('GatewayGuards on %s', (dialect) => {
  let place: DisposableTarget;
  let opened: GatewayGuards[];

  /** One gateway replica's view of the shared guards. */
  async function gateway(): Promise<GatewayGuards> {
    const guards = await GatewayGuards.open(place.target, POLICY);
    opened.push(guards);
    return guards;
  }

  beforeEach(async () => {
    place = await freshStoreTarget(dialect, 'gatewayGuards');
    opened = [];
  });

  afterEach(async () => {
    for (const g of opened) await g.close();
    await place.dispose();
  });

  it('grants a project its budget of attempts, then refuses until the oldest leaves the window', async () => {
    const g = await gateway();
    for (let i = 0; i < POLICY.maxFailures; i++) expect((await g.reserveAccept('p1', T0 + i * 1000)).allowed).toBe(true);
    expect(await g.reserveAccept('p1', T0 + 10_000)).toEqual({ allowed: false, retryAfterMs: 50_000 });
    expect((await g.reserveAccept('p2', T0 + 10_000)).allowed).toBe(true);
    expect((await g.reserveAccept('p1', T0 + POLICY.windowMs)).allowed).toBe(true);
  });

  it('an attempt given back does not count', async () => {
    const g = await gateway();
    for (let i = 0; i < 3 * POLICY.maxFailures; i++) {
      const attempt = await g.reserveAccept('p1', T0 + i);
      if (!attempt.allowed) throw new Error(`refused at ${i}`);
      await g.releaseAccept('p1', attempt.attemptId);
    }
  });

  it('gateways racing 40 guesses of one project grant exactly the budget one grants', async () => {
    // Two replicas share PostgreSQL. A SQLite file has one gateway: two
    // handles in one process would block each other's event loop in
    // SQLite's synchronous busy wait, a topology nobody runs.
    const [a, b] = dialect === 'postgres' ? await Promise.all([gateway(), gateway()]) : [await gateway(), undefined];
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : (b ?? a)).reserveAccept('p1', T0 + i)));
    expect(answers.filter((x) => x.allowed)).toHaveLength(POLICY.maxFailures);
  });

  it('a signature is used once, whichever gateway sees it, until it expires', async () => {
    const [a, b] = await Promise.all([gateway(), gateway()]);
    expect(await a.signatures.claim('ak:sig1', T0 + 600_000, T0)).toBe(true);
    expect(await b.signatures.claim('ak:sig1', T0 + 600_000, T0 + 1)).toBe(false);
    expect(await a.signatures.claim('ak:sig1', T0 + 600_000, T0 + 2)).toBe(false);
    expect(await b.signatures.claim('ak:sig2', T0 + 600_000, T0 + 3)).toBe(true);
    expect(await a.signatures.claim('ak:sig1', T0 + 1_200_000, T0 + 600_000)).toBe(true);
  });

  it('twenty concurrent claims of one signature on two gateways: exactly one wins', async () => {
    const [a, b] = await Promise.all([gateway(), gateway()]);
    const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).signatures.claim('ak:race', T0 + 600_000, T0)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(await a.signatures.count(T0)).toBe(1);
  });
});
