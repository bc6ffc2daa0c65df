import type { LabelMap, RgbImage } from '@seg/tensor';

/** Page → worker. */
export interface SegmentRequest {
  type: 'segment';
  image: RgbImage;
  seeds: LabelMap;
  method: 'adm' | 'graphcut' | 'gd-grid' | 'pce';
  /** ground truth (0 / 128 / 255) when the image is a GrabCut sample, for the IoU */
  mask?: { width: number; height: number; data: Uint8Array };
}

/** Worker → page. */
export type WorkerMessage =
  | { type: 'ready'; backend: string; simd: boolean; threads: number }
  | { type: 'progress'; message: string; labels?: Int32Array }
  | { type: 'done'; labels: Int32Array; seconds: number; iou: number | null }
  | { type: 'error'; message: string };
