import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    node: 'src/node/index.ts',
    worker: 'src/pool/worker.ts',
    testing: 'src/testing/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // tfjs-core's Node entry registers no gradients and its ESM files cannot be
  // imported from Node (extension-less imports): bundle its gradient
  // registrations (they share the one global engine and registry).
  onSuccess: 'cp src/testing/ts-worker.mjs dist/ts-worker.mjs',
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
});
