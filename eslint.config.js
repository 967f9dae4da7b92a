// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { plugin as certvigil } from './scripts/module-map.mjs';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // `interface ErrorCodes extends XErrorCodes {}` is how a module adds its codes to the
      // registry in src/errors.ts (declaration merging); any other empty interface stays an error.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  // The project's own rules (scripts/module-map.mjs), available to every file so that
  // `eslint --rule '{"certvigil/no-deep-imports":"warn"}' src` can switch one on from the command line.
  { name: 'certvigil/plugin', plugins: { certvigil } },
  {
    // The module map (ARCHITECTURE.md, scripts/module-map.mjs): a module imports only modules on a
    // lower layer, some for types only. Tests and fixtures are left out: they may wire real
    // modules together (a SQLite store, a live resolver) to test one.
    name: 'certvigil/module-map',
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts', 'src/**/*.fixture.ts'],
    rules: { 'certvigil/module-map': 'error' },
  },
  {
    // Cross-module imports only through the target's index.ts. After a merge that brings deep
    // imports back, `node scripts/rewrite-deep-imports.mjs` rewrites them (and extends the index).
    name: 'certvigil/no-deep-imports',
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts', 'src/**/*.fixture.ts'],
    rules: { 'certvigil/no-deep-imports': 'error', 'certvigil/deep-import-reason': 'error' },
  },
  {
    // The end-to-end and integration tests in test/ use src/ as a caller would: through each
    // module's index.ts. A test that needs an internal (a fixture, a seam no caller has) says so on
    // the line before: `// eslint-disable-next-line certvigil/no-deep-imports -- <why>`.
    name: 'certvigil/no-deep-imports-in-test',
    files: ['test/**/*.ts'],
    rules: { 'certvigil/no-deep-imports': 'error', 'certvigil/deep-import-reason': 'error' },
  },
);
