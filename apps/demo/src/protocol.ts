import type { BackendInfo } from './backend-status.js';
import type { RunRequest } from './engine.js';

/**
 * Page → worker: run a segmentation, the engine's {@link RunRequest} (seeds
 * with labels compacted by the page) plus the run's id. Messages about
 * another `runId` than the page's current one are dropped by the page.
 */
export interface SegmentRequest extends RunRequest {
  type: 'segment';
  runId: number;
  /** Ground truth (0 / 128 / 255) when the image is a GrabCut sample, for the IoU. */
  mask?: { width: number; height: number; data: Uint8Array };
}

/** Page → worker: stop run `runId` after its current iteration. */
export interface CancelRequest {
  type: 'cancel';
  runId: number;
}

/** Page → worker, first: start the backend with this many wasm threads (0: the backend's default). */
export interface InitRequest {
  type: 'init';
  threads: number;
}

export type PageMessage = InitRequest | SegmentRequest | CancelRequest;

/** Worker → page. */
export type WorkerMessage =
  | ({ type: 'ready' } & BackendInfo)
  | {
      type: 'progress';
      runId: number;
      iteration: number;
      iterations: number;
      terms: Record<string, number>;
      /** The intermediate labels at full size (0 … numLabels−1). */
      labels: Uint8Array;
      /** Since the worker took the request, ms. */
      ms: number;
    }
  | {
      type: 'done';
      runId: number;
      labels: Uint8Array;
      /** Since the worker took the request, ms. */
      ms: number;
      iou: number | null;
      completed: boolean;
      refined: boolean;
      /** The kernel helper Workers still running after the run (see {@link BackendInfo}). */
      kernelHelpers: number;
    }
  /** A run cancelled before it started. */
  | { type: 'cancelled'; runId: number }
  | { type: 'error'; runId: number | null; message: string };
