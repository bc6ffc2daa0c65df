import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    errors: 'src/errors.ts',
    node: 'src/node/index.ts',
    worker: 'src/pool/worker.ts',
    testing: 'src/testing/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // import.meta.url in the CJS build (the wasm thread set-up and the testing
  // helpers resolve files from it)
  shims: true,
  target: 'es2022',
  onSuccess: 'cp src/testing/ts-worker.mjs dist/ts-worker.mjs',
  // The internal @seg/tfjs-gradients (tfjs-core's gradient registrations,
  // bundled so that plain Node can import them) is not published: bundle it.
  noExternal: ['@seg/tfjs-gradients'],
});
