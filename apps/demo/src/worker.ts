/// <reference lib="webworker" />
// Trains in a Web Worker so the page never freezes.
import { initBackend, kernelHelpers } from '@seg/tensor';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { maskIoU, Session } from './engine.js';
import type { PageMessage, SegmentRequest, WorkerMessage } from './protocol.js';

const post = (m: WorkerMessage, transfer: Transferable[] = []) => self.postMessage(m, transfer);

let started: (threads: number) => void = () => {};
/** The thread count asked for (?threads=N, else one per logical core), once the page says it. */
const ready = new Promise<number>((r) => {
  started = r;
}).then((threads) =>
  initBackend({
    wasmPaths: {
      'tfjs-backend-wasm.wasm': wasmPlain,
      'tfjs-backend-wasm-simd.wasm': wasmSimd,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
    },
    // more than one runs where the page is cross-origin isolated; elsewhere
    // the report says why not
    threads: Math.min(8, threads >= 1 ? threads : navigator.hardwareConcurrency || 1),
  }).then(
    (r) => {
      post({
        type: 'ready',
        ...r,
        isolated: self.crossOriginIsolated === true,
        kernelHelpers: kernelHelpers(),
      });
      return true;
    },
    (e: unknown) => {
      post({
        type: 'error',
        runId: null,
        message: `backend: ${e instanceof Error ? e.message : String(e)}`,
      });
      return false;
    },
  ),
);

const session = new Session();
const cancelled = new Set<number>();
let queue: Promise<void> = Promise.resolve();

/** Lets queued messages (a cancel) in: a macrotask turn. */
const breathe = () => new Promise<void>((r) => setTimeout(r, 0));

async function run(req: SegmentRequest): Promise<void> {
  if (!(await ready)) return;
  const t0 = performance.now();
  const { runId } = req;
  if (cancelled.has(runId)) {
    cancelled.delete(runId);
    post({ type: 'cancelled', runId });
    return;
  }
  try {
    const result = await session.run(req, async (r) => {
      post(
        {
          type: 'progress',
          runId,
          iteration: r.iteration,
          iterations: r.iterations,
          terms: r.terms,
          labels: r.labels,
          ms: performance.now() - t0,
        },
        [r.labels.buffer],
      );
      await breathe();
      return !cancelled.has(runId);
    });
    const iou =
      req.mask && req.numLabels === 2
        ? maskIoU(result.labels, req.image.width, req.image.height, req.mask)
        : null;
    post(
      {
        type: 'done',
        runId,
        labels: result.labels,
        ms: performance.now() - t0,
        iou,
        completed: result.completed && !cancelled.has(runId),
        refined: result.refined,
        kernelHelpers: kernelHelpers(),
      },
      [result.labels.buffer],
    );
  } catch (err) {
    post({ type: 'error', runId, message: err instanceof Error ? err.message : String(err) });
  } finally {
    cancelled.delete(runId);
  }
}

self.addEventListener('message', (e: MessageEvent<PageMessage>) => {
  const m = e.data;
  if (m.type === 'init') {
    started(m.threads);
    return;
  }
  if (m.type === 'cancel') {
    cancelled.add(m.runId);
    return;
  }
  queue = queue.then(() => run(m));
});
