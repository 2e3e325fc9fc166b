// Flat config: type-checked typescript-eslint rules on TypeScript, with the
// workflow sandbox's import limits enforced where the workflow code lives.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));

export default defineConfig(
  {
    ignores: ['dist/**', '.data/**', '.tools/**', 'node_modules/**', 'coverage/**', '.tmp*/**'],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Activities and Nest lifecycle hooks are async by contract even when
      // one implementation has nothing to await.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'warn',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Tests read JSON bodies and poke at responses: the no-unsafe-* family
    // would demand a type for every body. Floating promises stay errors.
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox, bundled by
    // webpack: no Node built-ins, no I/O libraries, and activity code only as
    // types (the workflow calls activities through proxyActivities).
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflow code must not import Node built-ins (it runs in the Temporal sandbox).',
            })),
            ...['kafkajs', 'reflect-metadata', 'better-sqlite3'].map((name) => ({
              name,
              message: 'Workflow code must not load I/O or Node-only libraries: call an activity instead.',
            })),
          ],
          patterns: [
            {
              group: ['node:*'],
              message: 'Workflow code must not import Node built-ins (it runs in the Temporal sandbox).',
            },
            {
              group: ['@nestjs/*'],
              message: 'Workflow code must not depend on NestJS.',
            },
            {
              group: ['@temporalio/worker', '@temporalio/client', '@temporalio/activity', '@temporalio/testing'],
              message: 'Workflow code imports only @temporalio/workflow (and @temporalio/common).',
            },
            {
              group: ['**/activities', '**/activities/**'],
              allowTypeImports: true,
              message: 'Import activity code as types only (import type) and call it through proxyActivities.',
            },
            {
              group: ['**/libs/config', '**/libs/config/**', '**/libs/kafka', '**/libs/kafka/**'],
              allowTypeImports: true,
              message: 'These libraries use Node built-ins; workflows get settings as arguments.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', __dirname: 'readonly', require: 'readonly', module: 'writable' },
    },
  },
);
