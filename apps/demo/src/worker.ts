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
  (e: unknown) =>
    post({ type: 'error', message: `backend: ${e instanceof Error ? e.message : String(e)}` }),
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
        const extra =
          p.trainer === 'adm' ? `, proposals changed ${(100 * p.proposalChange).toFixed(1)} %` : '';
        post({
          type: 'progress',
          message: `${p.trainer.toUpperCase()} iteration ${p.iteration + 1}/${p.iterations}: regularized loss ${p.regularizedLoss.toFixed(4)}, partial CE ${p.partialCE.toFixed(4)}${extra} (${(p.elapsedMs / 1000).toFixed(1)} s)`,
        });
      },
    });
    const iou = req.mask ? objectIoU(result.labels, req.mask) : null;
    const labels = Int32Array.from(result.labels.data);
    post({ type: 'done', labels, seconds: (performance.now() - t0) / 1000, iou }, [labels.buffer]);
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
});
