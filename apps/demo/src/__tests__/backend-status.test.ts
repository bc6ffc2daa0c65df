import { describe, expect, it } from 'vitest';
import { type BackendInfo, backendStatus, noHelperReason } from '../backend-status.js';

describe('backend status line', () => {
  const threaded: BackendInfo = {
    backend: 'wasm',
    simd: true,
    threads: 2,
    isolated: true,
    kernelHelpers: 1,
  };
  const notIsolated: BackendInfo = {
    backend: 'wasm',
    simd: true,
    threads: 1,
    isolated: false,
    kernelHelpers: 0,
    threadsFallback: 'the page is not cross-origin isolated (serve it with …)',
  };

  it('counts the threads and the kernel helper Workers', () => {
    expect(noHelperReason(threaded)).toBeUndefined();
    expect(backendStatus(threaded)).toBe(
      'TensorFlow.js wasm backend, SIMD on, 2 threads, cross-origin isolated; @seg kernels on 2 threads (1 helper Worker)',
    );
    expect(backendStatus({ ...threaded, threads: 4, kernelHelpers: 3 })).toBe(
      'TensorFlow.js wasm backend, SIMD on, 4 threads, cross-origin isolated; @seg kernels on 4 threads (3 helper Workers)',
    );
  });

  it('says why there is no helper', () => {
    expect(backendStatus(notIsolated)).toBe(
      'TensorFlow.js wasm backend, SIMD on, 1 thread, not cross-origin isolated (1 thread); @seg kernels on 1 thread (no helper Worker: threads need cross-origin isolation)',
    );
    // isolated, one thread: initBackend's reason when it gave one
    const one = { ...notIsolated, isolated: true };
    expect(noHelperReason(one)).toBe('the page is not cross-origin isolated (serve it with …)');
    const { threadsFallback: _, ...asked } = one;
    expect(noHelperReason(asked)).toBe('one wasm thread (one logical core, or ?threads=1)');
    expect(noHelperReason({ ...threaded, kernelHelpers: 0 })).toBe(
      'the helper Workers did not start or stopped answering',
    );
    expect(backendStatus({ ...threaded, simd: false, kernelHelpers: 0 })).toMatch(
      /SIMD off, 2 threads, cross-origin isolated; @seg kernels on 1 thread \(no helper Worker: /,
    );
  });
});
