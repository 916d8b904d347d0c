import { defineConfig } from 'vitest/config';

// One fork for everything: the privileged suites build network namespaces and
// send real traffic, and they are sensitive to CPU load on a 2-core machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
