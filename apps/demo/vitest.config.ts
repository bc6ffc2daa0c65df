import { segVitestConfig } from '@seg/vitest-config';

export default segVitestConfig({
  include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
  testTimeout: 180_000,
});
