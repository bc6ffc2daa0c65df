/**
 * Matrix products and column sums as kernels of the wasm backend
 * (`SegMatMul`, `SegColSum`), in WebAssembly SIMD (matmul.wat), run on
 * tfjs-backend-wasm's own memory as the filter-gradient kernel is
 * (filter-grad.ts): the module imports the backend's `WebAssembly.Memory`
 * and reads its operands where the backend keeps them, with no copies.
 *
 * Why: tfjs-backend-wasm 4.22's BatchMatMul runs XNNPACK's fully-connected
 * operator, cached by the right operand's tensor and built to repack it, so
 * every product with a new right operand (a weight after an update, any
 * gradient) repacks it first; and with `transposeA` or `transposeB` it falls
 * to a scalar loop (about 1 GFLOP/s). This kernel reads all four transpose
 * cases with no transpose made explicit (packing blocks of its operands
 * into scratch of its own, see matmul.wat). Where the memory cannot be found, or SIMD is missing,
 * {@link wasmMatMulReady} is false and the callers keep tf.matMul.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  backendModule,
  type KernelArgs,
  moduleOn,
  offsetOf,
  type WasmBackendLike,
} from './backend-module.js';
import { kernelThreads, partsFor, runParts, splitRange } from './kernel-threads.js';
import { MATMUL_SHARED_WASM_BASE64, MATMUL_WASM_BASE64 } from './kernels-wasm.js';

/** The matrix-product kernel's name in tfjs's registry (wasm backend only). */
export const SEG_MATMUL = 'SegMatMul';

/** The column-sum kernel's name in tfjs's registry (wasm backend only). */
export const SEG_COL_SUM = 'SegColSum';

/** The ReLU-gradient kernel's name in tfjs's registry (wasm backend only). */
export const SEG_RELU_GRAD = 'SegReluGrad';

/** The SGD-update kernel's name in tfjs's registry (wasm backend only). */
export const SEG_AXPY = 'SegAxpy';

/** The dense-layer kernel's name in tfjs's registry (wasm backend only): a·b + bias, then ReLU or not. */
export const SEG_FUSED_MATMUL = 'SegFusedMatMul';

/** `SegFusedMatMul`'s attributes. */
export interface SegFusedMatMulAttrs {
  activation: 'linear' | 'relu';
}

/** `SegMatMul`'s attributes (those of tfjs's BatchMatMul). */
export interface SegMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

interface MatMulExports {
  /**
   * c[m×n] = op(a)·op(b) at byte offsets a, b, c (ta, tb: 0 or 1), the part
   * in rows [r0, r1) of {@link MatMulExports.splitExtent}. In the tiled
   * form, scratch: the byte offset of the part's own room for a block of the
   * left operand (at most 120 rows × 256 steps of k); panels: where
   * {@link MatMulExports.packPanels} packed the right operand, or 0 to read
   * it in place.
   */
  matmul(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    ta: number,
    tb: number,
    r0: number,
    r1: number,
    scratch: number,
    panels: number,
  ): void;
  /**
   * The tiled form of a·b or aᵀ·b (tb 0) in columns [c0, c1) of c (c0 a
   * multiple of 8), every row; with panels ≠ 0 it packs those columns'
   * panels there first (packPanels' layout). Same sums as `matmul`.
   */
  matmulCols(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    ta: number,
    c0: number,
    c1: number,
    scratch: number,
    panels: number,
  ): void;
  /** The dot form a·bᵀ (a [m×k], b [n×k]) in columns [c0, c1) of c, every row. Same sums as `matmul`. */
  dotCols(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    c0: number,
    c1: number,
  ): void;
  /** Panels [p0, p1) of 8 columns of r [k × ≥ 8·p1] (rows ldb bytes apart), panel p at dst + 32·k·p. */
  packPanels(r: number, ldb: number, k: number, p0: number, p1: number, dst: number): void;
  /** The rows that parts of `matmul` split: m, or n with both transposes. */
  splitExtent(m: number, n: number, ta: number, tb: number): number;
  /** out[j] = Σ_i x[i, j] for x [rows×cols]. */
  colSum(x: number, out: number, rows: number, cols: number): void;
  /** out[i] = dy[i] · (y[i] > 0 ? 1 : 0) for n floats. */
  reluGrad(dy: number, y: number, out: number, n: number): void;
  /** c[i, j] = act(c[i, j] + bias[j]) in place (bias 0: none; act ReLU when relu is 1). */
  biasAct(c: number, bias: number, rows: number, cols: number, relu: number): void;
  /** out[i] = c·x[i] + y[i] (rounded as tfjs's mul, then add) for i in [i0, i1), c given by its float32 bits. */
  axpy(x: number, y: number, out: number, cBits: number, i0: number, i1: number): void;
}

const kernelOf = backendModule<MatMulExports>(MATMUL_WASM_BASE64, MATMUL_SHARED_WASM_BASE64);

/**
 * True when the active backend is wasm, both kernels are registered for it
 * and the SIMD module runs on its memory.
 */
export function wasmMatMulReady(): boolean {
  return (
    tf.getBackend() === 'wasm' &&
    tf.getKernel(SEG_MATMUL, 'wasm') !== undefined &&
    tf.getKernel(SEG_COL_SUM, 'wasm') !== undefined &&
    kernelOf(tf.backend()) !== null
  );
}

/**
 * op(a)·op(b) by `SegMatMul` when it applies (wasm ready, float32, rank 2
 * or rank 3 with one batch size), else null. An outer product (k = 1) is
 * XNNPACK's instead, its operands reshaped (a transposed k = 1 operand is
 * stored as the untransposed one): the kernel's tiles are all overhead
 * there (784 × 1000: 0.65 ms against 0.35, alternated, load 2.6). With b
 * transposed along a short k (below {@link SHORT_DOT}) and 16 rows or more,
 * bᵀ is made explicit first.
 */
export function segMatMul(
  a: tf.Tensor,
  b: tf.Tensor,
  transposeA: boolean,
  transposeB: boolean,
): tf.Tensor | null {
  if (
    a.dtype !== 'float32' ||
    b.dtype !== 'float32' ||
    a.rank !== b.rank ||
    !(a.rank === 2 || (a.rank === 3 && a.shape[0] === b.shape[0])) ||
    !wasmMatMulReady()
  ) {
    return null;
  }
  const r = a.rank;
  if (a.shape[transposeA ? r - 2 : r - 1] === 1) {
    const m = a.shape[transposeA ? r - 1 : r - 2]!;
    const n = b.shape[transposeB ? r - 2 : r - 1]!;
    const batch = r === 3 ? [a.shape[0]!] : [];
    return tf.tidy(() =>
      tf.matMul(tf.reshape(a, [...batch, m, 1]), tf.reshape(b, [...batch, 1, n])),
    );
  }
  const k = a.shape[transposeA ? r - 2 : r - 1]!;
  if (transposeB && !transposeA && k < SHORT_DOT && a.shape[r - 2]! >= 16) {
    // bᵀ made explicit (n·k values against m·n·k multiply-adds), then the tiled form
    return tf.tidy(() => {
      const perm = r === 3 ? [0, 2, 1] : [1, 0];
      return runSegMatMul(a, tf.transpose(b, perm), false, false);
    });
  }
  return runSegMatMul(a, b, transposeA, transposeB);
}

/**
 * Below this k, a product with b transposed (and a not) runs the tiled form
 * on an explicit bᵀ rather than the dot form: along a short k the dot form's
 * four-lane partial sums are mostly edges and reductions. Alternated on one
 * thread (load ~3, bench run beside an experiment): [100,10]·[1000,10]ᵀ 0.34
 * → 0.18 ms, [10800,2]·[16,2]ᵀ 0.42 → 0.11, [1000,100]·[1000,100]ᵀ 16.5 →
 * 13.7; equal at k = 128; at k = 1000 the dot form wins (15.2 against 17.6
 * ms for [100,1000]·[1000,1000]ᵀ), as it does for 8 rows of a.
 */
const SHORT_DOT = 128;

function runSegMatMul(
  a: tf.Tensor,
  b: tf.Tensor,
  transposeA: boolean,
  transposeB: boolean,
): tf.Tensor {
  const attrs: SegMatMulAttrs = { transposeA, transposeB };
  return tf
    .engine()
    .runKernel(SEG_MATMUL, { a, b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** Σ over the rows of a float32 `[rows, cols]` x by `SegColSum` when wasm is ready, else null. */
export function segColSum(x: tf.Tensor2D): tf.Tensor1D | null {
  if (x.dtype !== 'float32' || !wasmMatMulReady()) return null;
  return tf.engine().runKernel(SEG_COL_SUM, { x }) as tf.Tensor1D;
}

/**
 * `dy · step(y)` (a ReLU's gradient; tfjs's `mul(dy, step(y))`, −0 and NaN
 * included) in one pass by `SegReluGrad` when wasm is ready and both are
 * float32 of one shape, else null.
 */
export function segReluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor | null {
  if (!elementwiseReady(SEG_RELU_GRAD, dy, y)) return null;
  return tf.engine().runKernel(SEG_RELU_GRAD, { dy, y }) as tf.Tensor;
}

/** True when `kernel` runs on wasm here and x, y are float32 of one shape (an elementwise kernel's inputs). */
function elementwiseReady(kernel: string, x: tf.Tensor, y: tf.Tensor): boolean {
  return (
    x.dtype === 'float32' &&
    y.dtype === 'float32' &&
    x.rank === y.rank &&
    x.shape.every((d, i) => d === y.shape[i]) &&
    wasmMatMulReady() &&
    tf.getKernel(kernel, 'wasm') !== undefined
  );
}

/**
 * The tiled form's rows below which its right operand is read in place, not
 * packed: packing costs about a row's worth of work.
 */
const PACK_ROWS = 16;

/**
 * op(a)·op(b) for float32 a and b of rank 2, or of rank 3 with the same
 * batch (the caller checks shapes: see `matMul` in ops/mat-mul.ts). In the
 * tiled form (all but a·bᵀ and a matrix times a vector), the right operand
 * is packed into panels once, by all threads, before the parts run; each
 * part packs its blocks of the left operand into scratch of its own.
 */
function matMulKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const b = backend as WasmBackendLike;
  const kernel = moduleOn(SEG_MATMUL, kernelOf, b);
  const { a: x, b: y } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA: ta, transposeB: tb } = attrs as unknown as SegMatMulAttrs;
  const r = x.shape.length;
  const batch = r === 3 ? x.shape[0]! : 1;
  const m = x.shape[ta ? r - 1 : r - 2]!;
  const k = x.shape[ta ? r - 2 : r - 1]!;
  const n = y.shape[tb ? r - 2 : r - 1]!;
  const out = b.makeOutput(r === 3 ? [batch, m, n] : [m, n], 'float32');
  if (m * n * batch === 0) return out;
  const pc = offsetOf(b, out);
  const pa = k ? offsetOf(b, x) : 0;
  const pb = k ? offsetOf(b, y) : 0;
  const extent = kernel.splitExtent(m, n, +ta, +tb);
  const threads = kernelThreads(b);
  // a batch's products are parts already
  const parts = Math.ceil(partsFor(batch * m * n * k, threads) / batch);
  // the tiled form: c = l·r over `extent` rows, r being b (c's columns n),
  // or a with both transposes (cᵀ = b·a, columns m)
  const tiled = k > 0 && (ta || (!tb && n > 1));
  // one product on several threads, b the larger operand: split by columns (see matMulByColumns)
  const byColumns = batch === 1 && parts > 1 && k > 0 && m < n && n >= 16;
  if (byColumns && tiled && !tb) {
    matMulByColumns(b, kernel, pa, pb, pc, m, n, k, +ta, parts);
    return out;
  }
  if (byColumns && tb && !ta) {
    const calls = splitRange(n, parts, 4).map(([c0, c1]) => [pa, pb, pc, m, n, k, c0!, c1!]);
    runParts(b, 'dotCols', kernel.dotCols, calls);
    return out;
  }
  // parts in rows of 4 (the kernel's tiles)
  const ranges = splitRange(extent, parts, 4);
  const cols = ta && tb ? m : n;
  const panels = tiled && extent >= PACK_ROWS ? k * (cols & ~7) : 0;
  const blockFloats = tiled
    ? leftBlockFloats(Math.max(...ranges.map(([r0, r1]) => r1! - r0!)), k)
    : 0;
  const scratch =
    panels + blockFloats > 0
      ? b.makeOutput([batch * (panels + ranges.length * blockFloats)], 'float32')
      : null;
  try {
    const ps = scratch ? offsetOf(b, scratch) : 0;
    const right = (s: number) => (ta && tb ? pa + 4 * s * m * k : pb + 4 * s * k * n);
    if (panels > 0) {
      // a copy of `panels` floats a product, cut as a kernel of as many multiply-adds
      const perProduct = splitRange(
        cols >> 3,
        Math.ceil(partsFor(batch * panels, threads) / batch),
        1,
      );
      const packs: number[][] = [];
      for (let s = 0; s < batch; s++) {
        for (const [p0, p1] of perProduct)
          packs.push([right(s), 4 * cols, k, p0!, p1!, ps + 4 * s * panels]);
      }
      runParts(b, 'packPanels', kernel.packPanels, packs);
    }
    const blocks = ps + 4 * batch * panels;
    const calls: number[][] = [];
    for (let s = 0; s < batch; s++) {
      for (const [r0, r1] of ranges) {
        calls.push([
          pa + 4 * s * m * k,
          pb + 4 * s * k * n,
          pc + 4 * s * m * n,
          m,
          n,
          k,
          +ta,
          +tb,
          r0!,
          r1!,
          tiled ? blocks + 4 * blockFloats * calls.length : 0,
          panels > 0 ? ps + 4 * s * panels : 0,
        ]);
      }
    }
    runParts(b, 'matmul', kernel.matmul, calls);
  } finally {
    if (scratch) b.disposeData(scratch.dataId, true);
  }
  return out;
}

/**
 * Floats of a part's scratch for one block of the left operand in the tiled
 * form (matmul.wat's `$splat`: at most 120 of the part's `rows` × 256 steps
 * of k), rounded up to whole vectors.
 */
function leftBlockFloats(rows: number, k: number): number {
  return (Math.min(rows, 120) * Math.min(k, 256) + 3) & ~3;
}

/**
 * The tiled form split by columns: c = op(a)·b (b not transposed, one
 * product) in `parts` slices of whole panels of 8 columns, each packing its
 * own panels (from 16 rows on, as {@link PACK_ROWS}) and its blocks of the
 * left operand. A row split has every part read all of b; this one, all of a:
 * for m < n it reads b once instead of once per part (an MLP's [100, 784] ·
 * [784, 1000] in 4 parts on 2 threads: 3.1 MB of b and 1.3 MB of a, against
 * 12.5 MB of b). The same sums, so the same bits, as one thread.
 */
function matMulByColumns(
  b: WasmBackendLike,
  kernel: MatMulExports,
  pa: number,
  pb: number,
  pc: number,
  m: number,
  n: number,
  k: number,
  ta: number,
  parts: number,
): void {
  const ranges = splitRange(n >> 3, parts, 1);
  const panels = m >= PACK_ROWS ? k * (n & ~7) : 0;
  const blockFloats = leftBlockFloats(m, k);
  const scratch = b.makeOutput([panels + ranges.length * blockFloats], 'float32');
  try {
    const ps = offsetOf(b, scratch);
    const calls = ranges.map(([p0, p1], i) => [
      pa,
      pb,
      pc,
      m,
      n,
      k,
      ta,
      8 * p0!,
      i === ranges.length - 1 ? n : 8 * p1!,
      ps + 4 * (panels + i * blockFloats),
      panels > 0 ? ps : 0,
    ]);
    runParts(b, 'matmulCols', kernel.matmulCols, calls);
  } finally {
    b.disposeData(scratch.dataId, true);
  }
}

/**
 * act(a·b + bias) for float32 a [m×k], b [k×n] and bias [n] (optional): the
 * product by {@link matMulKernel}, then one pass of `biasAct` over it.
 */
function fusedMatMulKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const b = backend as WasmBackendLike;
  const kernel = moduleOn(SEG_FUSED_MATMUL, kernelOf, b);
  const { a, b: w, bias } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo };
  const { activation } = attrs as unknown as SegFusedMatMulAttrs;
  const out = matMulKernel({
    inputs: { a, b: w },
    backend,
    attrs: { transposeA: false, transposeB: false } as unknown as tf.NamedAttrMap,
  });
  const [m, n] = out.shape as [number, number];
  if (m * n > 0 && (bias || activation === 'relu')) {
    kernel.biasAct(
      offsetOf(b, out),
      bias ? offsetOf(b, bias) : 0,
      m,
      n,
      activation === 'relu' ? 1 : 0,
    );
  }
  return out;
}

/** `SegFusedMatMul`'s registration (wasm backend). */
export const wasmFusedMatMulKernelConfig: tf.KernelConfig = {
  kernelName: SEG_FUSED_MATMUL,
  backendName: 'wasm',
  kernelFunc: fusedMatMulKernel as unknown as tf.KernelFunc,
};

/** Σ over the rows of a float32 `[rows, cols]` x: `[cols]`. */
function colSumKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const b = backend as WasmBackendLike;
  const kernel = moduleOn(SEG_COL_SUM, kernelOf, b);
  const { x } = inputs as { x: tf.TensorInfo };
  const [rows, cols] = x.shape as [number, number];
  const out = b.makeOutput([cols], 'float32');
  if (cols === 0) return out;
  kernel.colSum(rows ? offsetOf(b, x) : 0, offsetOf(b, out), rows, cols);
  return out;
}

/** dy · step(y) for float32 dy and y of one shape. */
function reluGradKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const b = backend as WasmBackendLike;
  const kernel = moduleOn(SEG_RELU_GRAD, kernelOf, b);
  const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
  const out = b.makeOutput(dy.shape, 'float32');
  const n = dy.shape.reduce((p, d) => p * d, 1);
  if (n > 0) kernel.reluGrad(offsetOf(b, dy), offsetOf(b, y), offsetOf(b, out), n);
  return out;
}

/**
 * `c·x + y` for float32 x and y of one shape, rounded as tfjs's
 * `add(mul(c, x), y)` (c a float32), in one pass by `SegAxpy` when wasm is
 * ready, else null. An SGD update: x the gradient, y the value, c = −lr.
 */
export function segAxpy(c: number, x: tf.Tensor, y: tf.Tensor): tf.Tensor | null {
  if (!elementwiseReady(SEG_AXPY, x, y)) return null;
  return tf.engine().runKernel(SEG_AXPY, { x, y }, { c }) as tf.Tensor;
}

/** Below this many floats an update runs on one thread. */
const AXPY_PART = 1 << 16;
const f32Bits = new Int32Array(1);
const f32View = new Float32Array(f32Bits.buffer);

/** c·x + y for float32 x and y of one shape (attribute c). */
function axpyKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const b = backend as WasmBackendLike;
  const kernel = moduleOn(SEG_AXPY, kernelOf, b);
  const { x, y } = inputs as { x: tf.TensorInfo; y: tf.TensorInfo };
  const out = b.makeOutput(x.shape, 'float32');
  const n = x.shape.reduce((p, d) => p * d, 1);
  if (n === 0) return out;
  f32View[0] = (attrs as unknown as { c: number }).c;
  const [px, py, po, bits] = [offsetOf(b, x), offsetOf(b, y), offsetOf(b, out), f32Bits[0]!];
  const parts = n < AXPY_PART ? 1 : kernelThreads(b);
  const calls = splitRange(n, parts, 4).map(([i0, i1]) => [px, py, po, bits, i0!, i1!]);
  runParts(b, 'axpy', kernel.axpy, calls);
  return out;
}

/** `SegAxpy`'s registration (wasm backend). */
export const wasmAxpyKernelConfig: tf.KernelConfig = {
  kernelName: SEG_AXPY,
  backendName: 'wasm',
  kernelFunc: axpyKernel as unknown as tf.KernelFunc,
};

/** `SegMatMul`'s registration (wasm backend). */
export const wasmMatMulKernelConfig: tf.KernelConfig = {
  kernelName: SEG_MATMUL,
  backendName: 'wasm',
  kernelFunc: matMulKernel as unknown as tf.KernelFunc,
};

/** `SegColSum`'s registration (wasm backend). */
export const wasmColSumKernelConfig: tf.KernelConfig = {
  kernelName: SEG_COL_SUM,
  backendName: 'wasm',
  kernelFunc: colSumKernel as unknown as tf.KernelFunc,
};

/** `SegReluGrad`'s registration (wasm backend). */
export const wasmReluGradKernelConfig: tf.KernelConfig = {
  kernelName: SEG_RELU_GRAD,
  backendName: 'wasm',
  kernelFunc: reluGradKernel as unknown as tf.KernelFunc,
};
