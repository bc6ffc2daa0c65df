// The status line under the chart: the worker's backend in words.

/** What the worker reports about its backend (its 'ready' message). */
export interface BackendInfo {
  backend: string;
  simd: boolean;
  /** wasm threads per op (XNNPACK's pool). */
  threads: number;
  /** Whether the worker is cross-origin isolated (threads need it). */
  isolated: boolean;
  /**
   * Helper Workers that @seg's SIMD kernels run on besides the worker's own
   * thread (`kernelHelpers()` of @seg/tensor): threads − 1 when they started.
   */
  kernelHelpers: number;
  /** Why fewer threads run than were asked for (`initBackend`'s report). */
  threadsFallback?: string;
}

/** Why @seg's SIMD kernels run without a helper Worker; undefined when they have one. */
export function noHelperReason(b: BackendInfo): string | undefined {
  if (b.kernelHelpers > 0) return undefined;
  if (b.threads >= 2) return 'the helper Workers did not start or stopped answering';
  if (!b.isolated) return 'threads need cross-origin isolation';
  return b.threadsFallback ?? 'one wasm thread (one logical core, or ?threads=1)';
}

/**
 * The status line, e.g. "TensorFlow.js wasm backend, SIMD on, 2 threads,
 * cross-origin isolated; @seg kernels on 2 threads (1 helper Worker)".
 */
export function backendStatus(b: BackendInfo): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const isolation = b.isolated ? 'cross-origin isolated' : 'not cross-origin isolated (1 thread)';
  const reason = noHelperReason(b);
  const kernels =
    reason === undefined
      ? `@seg kernels on ${plural(1 + b.kernelHelpers, 'thread')} (${plural(b.kernelHelpers, 'helper Worker')})`
      : `@seg kernels on 1 thread (no helper Worker: ${reason})`;
  return `TensorFlow.js ${b.backend} backend, SIMD ${b.simd ? 'on' : 'off'}, ${plural(b.threads, 'thread')}, ${isolation}; ${kernels}`;
}
