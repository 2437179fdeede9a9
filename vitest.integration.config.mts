import { defineConfig } from 'vitest/config';

// One file at a time: these tests start engine processes, SIGKILL children and assert the
// acceptance timings (ENGINE_CRASHED within 2 s, hard cancel within 1 s) that a second heavy test
// file on a 2-core machine would distort.
export default defineConfig({
  test: {
    include: ['tests/integration/**/*.test.ts'],
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
