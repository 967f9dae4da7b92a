import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration suites start real daemons (Knot, NSD, Unbound) on loopback ports; separate worker
    // processes keep each suite's servers and exit handlers to itself.
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
