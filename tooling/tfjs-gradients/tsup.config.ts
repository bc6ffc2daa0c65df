import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.js' },
  format: ['esm', 'cjs'],
  clean: true,
  target: 'es2022',
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
});
