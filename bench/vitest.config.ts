import { defineConfig } from 'vitest/config';

// End-to-end benchmarks that need namespaces and real daemons; they print figures and
// assert nothing about speed. Run: npx vitest run --config bench/vitest.config.ts
export default defineConfig({
  test: {
    include: ['bench/**/*.bench-e2e.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
