import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { seg: 'src/main.ts', worker: 'src/worker.ts' },
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
});
