/**
 * The lattice's splat / blur / slice in WebAssembly SIMD (kernels.wat): one
 * small instance per lattice, holding its index arrays in its own memory.
 */
import { KERNELS_WASM_BASE64 } from './kernels-wasm.js';

interface KernelExports {
  memory: WebAssembly.Memory;
  splat(
    values: number,
    c: number,
    n: number,
    d1: number,
    vtx: number,
    bary: number,
    buf: number,
  ): void;
  blur(src: number, dst: number, c: number, m: number, nb: number): void;
  slice(
    buf: number,
    values: number,
    c: number,
    n: number,
    d1: number,
    vtx: number,
    bary: number,
    alpha: number,
    fix: number,
    out: number,
  ): void;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is missing. */
function module(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    const bin = atob(KERNELS_WASM_BASE64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    compiled = new WebAssembly.Module(bytes);
  } catch {
    compiled = null;
  }
  return compiled;
}

/** True when the WebAssembly SIMD kernels can run here. */
export function wasmKernelsAvailable(): boolean {
  return module() !== null;
}

const PAGE = 65536;

/** A lattice's arrays in wasm memory and the filter that runs on them. */
export class WasmLatticeKernels {
  private readonly ex: KernelExports;
  private readonly vtx: number;
  private readonly bary: number;
  private readonly nb: number;
  private readonly fix: number;
  private readonly negSelf: number;
  private readonly dynamic: number;

  constructor(
    private readonly n: number,
    private readonly d1: number,
    private readonly m: number,
    vertexOf: Int32Array,
    baryOf: Float32Array,
    neighbors: Int32Array,
    selfFix: Float32Array,
    negSelf: Float32Array,
  ) {
    const mod = module();
    if (mod === null) throw new Error('WasmLatticeKernels: WebAssembly SIMD is not available');
    this.ex = new WebAssembly.Instance(mod, {}).exports as unknown as KernelExports;
    let off = 0;
    const take = (bytes: number) => {
      const at = off;
      off += Math.ceil(bytes / 16) * 16;
      return at;
    };
    this.vtx = take(vertexOf.byteLength);
    this.bary = take(baryOf.byteLength);
    this.nb = take(neighbors.byteLength);
    this.fix = take(selfFix.byteLength);
    this.negSelf = take(negSelf.byteLength);
    this.dynamic = off;
    this.ensure(off);
    const buf = this.ex.memory.buffer;
    new Int32Array(buf, this.vtx, vertexOf.length).set(vertexOf);
    new Float32Array(buf, this.bary, baryOf.length).set(baryOf);
    new Int32Array(buf, this.nb, neighbors.length).set(neighbors);
    new Float32Array(buf, this.fix, selfFix.length).set(selfFix);
    new Float32Array(buf, this.negSelf, negSelf.length).set(negSelf);
  }

  private ensure(bytes: number): void {
    const mem = this.ex.memory;
    const have = mem.buffer.byteLength;
    if (bytes > have) mem.grow(Math.ceil((bytes - have) / PAGE));
  }

  /** See PermutohedralLattice.filter; `out` receives the N×c result. */
  filter(
    values: Float32Array,
    c: number,
    out: Float32Array,
    alpha: number,
    reverse: boolean,
    excludeSelf: boolean,
  ): void {
    const { n, d1, m } = this;
    const rowBytes = c * 4;
    const valuesAt = this.dynamic;
    const outAt = valuesAt + Math.ceil((n * rowBytes) / 16) * 16;
    const bufA = outAt + Math.ceil((n * rowBytes) / 16) * 16;
    const lat = Math.ceil(((m + 1) * rowBytes) / 16) * 16;
    const bufB = bufA + lat;
    this.ensure(bufB + lat);
    const f32 = new Float32Array(this.ex.memory.buffer);
    f32.set(values, valuesAt >> 2);
    f32.fill(0, bufA >> 2, (bufA >> 2) + (m + 1) * c);
    f32.fill(0, (bufB >> 2) + m * c, (bufB >> 2) + (m + 1) * c);
    const ex = this.ex;
    ex.splat(valuesAt, c, n, d1, this.vtx, this.bary, bufA);
    let src = bufA;
    let dst = bufB;
    for (let t = 0; t < d1; t++) {
      const j = reverse ? d1 - 1 - t : t;
      ex.blur(src, dst, c, m, this.nb + j * m * 8);
      const tmp = src;
      src = dst;
      dst = tmp;
    }
    ex.slice(
      src,
      valuesAt,
      c,
      n,
      d1,
      this.vtx,
      this.bary,
      alpha,
      excludeSelf ? this.negSelf : this.fix,
      outAt,
    );
    out.set(f32.subarray(outAt >> 2, (outAt >> 2) + n * c));
  }
}

interface MeanFieldExports {
  memory: WebAssembly.Memory;
  scaleRows(src: number, norm: number, dst: number, n: number, k: number): void;
  addScaledRows(acc: number, msg: number, norm: number, w: number, n: number, k: number): void;
  softmaxRows(logits: number, q: number, n: number, k: number): void;
  embed(
    feat: number,
    n: number,
    d: number,
    sf: number,
    el: number,
    rem: number,
    rank: number,
    bary: number,
    prem: number,
    prank: number,
    outBary: number,
    outKeys: number,
    outSame: number,
  ): void;
}

/**
 * A wasm memory with a bump allocator, and the operations on arrays inside it:
 * the mean-field rows (scaleRows, addScaledRows, softmaxRows) and the
 * lattice's per-point simplex search (embed).
 */
export class WasmWorkspace {
  readonly ex: MeanFieldExports;
  private top = 0;

  constructor() {
    const mod = module();
    if (mod === null) throw new Error('WasmWorkspace: WebAssembly SIMD is not available');
    this.ex = new WebAssembly.Instance(mod, {}).exports as unknown as MeanFieldExports;
  }

  /** Reserves `floats` float32s (16-byte aligned); returns the byte offset. */
  alloc(floats: number): number {
    const at = this.top;
    this.top += Math.ceil((floats * 4) / 16) * 16;
    const mem = this.ex.memory;
    const have = mem.buffer.byteLength;
    if (this.top > have) mem.grow(Math.ceil((this.top - have) / PAGE));
    return at;
  }

  /** A Float32Array view of `floats` float32s at byte offset `at` (invalid after the next alloc). */
  view(at: number, floats: number): Float32Array {
    return new Float32Array(this.ex.memory.buffer, at, floats);
  }
}

/**
 * The enclosing simplex of every point, computed in wasm: barycentric weights
 * (N×(d+1)), vertex keys (N×(d+1)×d, written only where `same[p] = 0`) and
 * `same[p] = 1` where point p lies in the same simplex as point p − 1.
 */
export function embedPoints(
  features: Float32Array,
  d: number,
  scaleFactor: Float64Array,
): { bary: Float32Array; keys: Int32Array; same: Int32Array } {
  const n = features.length / d;
  const d1 = d + 1;
  const ws = new WasmWorkspace();
  const feat = ws.alloc(n * d);
  const sf = ws.alloc(2 * d);
  const el = ws.alloc(2 * d1);
  const rem = ws.alloc(2 * d1);
  const rank = ws.alloc(d1);
  const bary = ws.alloc(2 * (d + 2));
  const prem = ws.alloc(2 * d1);
  const prank = ws.alloc(d1);
  const outBary = ws.alloc(n * d1);
  const outKeys = ws.alloc(n * d1 * d);
  const outSame = ws.alloc(n);
  const buf = ws.ex.memory.buffer;
  new Float32Array(buf, feat, n * d).set(features);
  new Float64Array(buf, sf, d).set(scaleFactor);
  ws.ex.embed(feat, n, d, sf, el, rem, rank, bary, prem, prank, outBary, outKeys, outSame);
  return {
    bary: new Float32Array(buf, outBary, n * d1).slice(),
    keys: new Int32Array(buf, outKeys, n * d1 * d),
    same: new Int32Array(buf, outSame, n),
  };
}
