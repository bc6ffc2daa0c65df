// Shared vitest settings for every @seg package.
// Tests resolve workspace packages to their TypeScript sources through the
// `@seg/source` export condition, so `pnpm test` needs no build of siblings.
import { defineConfig } from 'vitest/config';

/** @param {import('vitest/config').UserConfig['test']} [overrides] */
export function segVitestConfig(overrides = {}) {
  return defineConfig({
    resolve: { conditions: ['@seg/source'] },
    ssr: { resolve: { conditions: ['@seg/source'] } },
    test: {
      include: ['src/**/*.test.ts'],
      environment: 'node',
      testTimeout: 60_000,
      hookTimeout: 60_000,
      pool: 'forks',
      ...overrides,
    },
  });
}
