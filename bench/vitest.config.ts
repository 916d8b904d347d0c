import { defineConfig } from 'vitest/config';

// The benchmarks that need the test topology (bench/*.measure.ts), run by their bench/*.bench.mjs
// only: `npm test` (vitest.config.ts, test/**/*.test.ts) never collects them.
export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['bench/*.measure.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
