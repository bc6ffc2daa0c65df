import { defineConfig } from 'tsup';

export default defineConfig({
  // the solver worker is a second entry, `dist/worker.js`, found beside the
  // bundle by createSolverPool; shims make import.meta.url work in CJS
  entry: { index: 'src/index.ts', worker: 'src/batch/worker.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  shims: true,
});
