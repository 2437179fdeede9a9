import { defineConfig } from 'vitest/config';

// Unit tests: fast, independent, run in parallel. Integration tests (real engine processes, kill
// tests, timing acceptance checks) live in vitest.integration.config.mts and run one file at a time.
export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
