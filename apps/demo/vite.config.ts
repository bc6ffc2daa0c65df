import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The bundled GrabCut samples (../../samples) are served as static files.
export default defineConfig({
  publicDir: fileURLToPath(new URL('../../samples', import.meta.url)),
  resolve: { conditions: ['@seg/source'] },
  worker: { format: 'es' },
  build: { target: 'es2022', outDir: 'dist', sourcemap: true },
  preview: { port: 4173, strictPort: false },
});
