import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration suites start real daemons (Knot, Unbound) on loopback ports; keep them in separate
    // worker processes so each suite owns its servers.
    pool: 'forks',
  },
});
