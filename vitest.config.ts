import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    // Integration tests start real processes; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // One file at a time: the end-to-end files start daemons and measure failover on a
    // 2-core machine, and must not starve each other into timeouts.
    fileParallelism: false,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
