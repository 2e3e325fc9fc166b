/**
 * Two projects:
 *   unit         *.spec.ts beside the code; pure, no servers
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
          name: 'integration',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          // Real servers on a 2-core machine: slow steps, few files at once.
          testTimeout: 120_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
