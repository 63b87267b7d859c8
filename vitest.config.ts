import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests import workspace packages from source, so a stale dist/ never hides a change.
  resolve: { conditions: ['@nta/source'] },
  ssr: { resolve: { conditions: ['@nta/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.{ts,tsx}', 'tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
