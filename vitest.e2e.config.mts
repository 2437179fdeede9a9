import { defineConfig } from 'vitest/config';

// End-to-end tests: the built renderer in Debian's Chromium against `atelier serve` (real handlers,
// real engine process) over the loopback WebSocket transport. Run after `npm run build`.
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
