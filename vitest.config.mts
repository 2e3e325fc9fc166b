/**
 * Four projects (infra/test.sh runs the cluster one in a pass of its own):
 *   unit         *.spec.ts beside the code; pure, no servers
 *   stores       test/stores: each store's repository on a SQLite file and on
 *                the real PostgreSQL that infra/test.sh starts
 *   cluster      test/cluster: the cluster topology (infra/cluster.sh), replicas
 *                on loopback "hosts" behind HAProxy, started once per run
 *   integration  test/**\/*.test.ts against the real stack that
 *                test/support/global-setup.ts starts once per run
 *                (test/faults starts a private one it may kill parts of)
 * `vitest run --project unit` runs only the first and starts nothing.
 */
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // SWC instead of Vite's own transform: it emits decorator metadata (read
  // from tsconfig's emitDecoratorMetadata), which NestJS injection needs.
  plugins: [swc.vite()],
  test: {
    // Temporal's native module crashes worker threads: child processes only.
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'apps/**/*.spec.ts',
            'libs/**/*.spec.ts',
            'workflows/**/*.spec.ts',
            'activities/**/*.spec.ts',
            'infra/**/*.spec.ts',
          ],
          testTimeout: 10_000,
          // Projects with different maxWorkers run as separate groups: unit first.
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'stores',
          include: ['test/stores/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/stores/**', 'test/cluster/**'],
          globalSetup: ['test/support/global-setup.ts'],
          // Real servers on a 2-core machine: slow steps, few files at once.
          testTimeout: 120_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
          sequence: { groupOrder: 2 },
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          globalSetup: ['test/support/cluster-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // One topology, faults in it: one file at a time.
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
