/// <reference lib="webworker" />
// Trains in a Web Worker so the page never freezes.
import { objectIoU, segmentImage } from '@seg/optim-adm';
import { initBackend } from '@seg/tensor';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { SegmentRequest, WorkerMessage } from './protocol.js';

const post = (m: WorkerMessage, transfer: Transferable[] = []) => self.postMessage(m, transfer);

const ready = initBackend({
  wasmPaths: {
    'tfjs-backend-wasm.wasm': wasmPlain,
    'tfjs-backend-wasm-simd.wasm': wasmSimd,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
  },
}).then(
  (r) => post({ type: 'ready', ...r }),
  (e: unknown) => post({ type: 'error', message: `backend: ${e instanceof Error ? e.message : String(e)}` }),
);

self.addEventListener('message', async (e: MessageEvent<SegmentRequest>) => {
  await ready;
  const req = e.data;
  const t0 = performance.now();
  try {
    const result = await segmentImage(req.image, req.seeds, {
      method: req.method,
      seed: 1,
      onProgress: (p) => {
        const labels = p.labels ? Int32Array.from(p.labels.data) : undefined;
        post({ type: 'progress', message: p.message, ...(labels ? { labels } : {}) }, labels ? [labels.buffer] : []);
      },
    });
    const iou = req.mask ? objectIoU(result.labels, req.mask) : null;
    const labels = Int32Array.from(result.labels.data);
    post({ type: 'done', labels, seconds: (performance.now() - t0) / 1000, iou }, [labels.buffer]);
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
});
