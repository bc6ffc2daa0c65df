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

/**
 * A lattice's arrays in wasm memory (its own workspace, or one shared with a
 * dense CRF so values and results need no copies) and the filter on them.
 */
export class WasmLatticeKernels {
  private readonly ws: WasmWorkspace;
  private readonly vtx: number;
  private readonly bary: number;
  private readonly nb: number;
  private readonly fix: number;
  private readonly negSelf: number;
  private io = { at: 0, floats: -1 };
  private bufs = { a: 0, b: 0, floats: -1 };

  constructor(
    private readonly n: number,
    private readonly d1: number,
    private readonly m: number,
    vertexOf: Int32Array,
    baryOf: Float32Array,
    neighbors: Int32Array,
    selfFix: Float32Array,
    negSelf: Float32Array,
    workspace?: WasmWorkspace,
  ) {
    const ws = workspace ?? new WasmWorkspace();
    this.ws = ws;
    this.vtx = ws.alloc(vertexOf.length);
    this.bary = ws.alloc(baryOf.length);
    this.nb = ws.alloc(neighbors.length);
    this.fix = ws.alloc(selfFix.length);
    this.negSelf = ws.alloc(negSelf.length);
    const buf = ws.ex.memory.buffer;
    new Int32Array(buf, this.vtx, vertexOf.length).set(vertexOf);
    new Float32Array(buf, this.bary, baryOf.length).set(baryOf);
    new Int32Array(buf, this.nb, neighbors.length).set(neighbors);
    new Float32Array(buf, this.fix, selfFix.length).set(selfFix);
    new Float32Array(buf, this.negSelf, negSelf.length).set(negSelf);
  }

  /** Replaces the per-point self corrections (`1 − α·s_i` and `−α·s_i`). */
  setSelf(selfFix: Float32Array, negSelf: Float32Array): void {
    const buf = this.ws.ex.memory.buffer;
    new Float32Array(buf, this.fix, selfFix.length).set(selfFix);
    new Float32Array(buf, this.negSelf, negSelf.length).set(negSelf);
  }

  /** The workspace holding this lattice's arrays. */
  get workspace(): WasmWorkspace {
    return this.ws;
  }

  /** See PermutohedralLattice.filter; `out` receives the N×c result (copies in and out). */
  filter(
    values: Float32Array,
    c: number,
    out: Float32Array,
    alpha: number,
    reverse: boolean,
    excludeSelf: boolean,
  ): void {
    const nc = this.n * c;
    if (this.io.floats < 2 * nc) this.io = { at: this.ws.alloc(2 * nc), floats: 2 * nc };
    const valuesAt = this.io.at;
    const outAt = valuesAt + nc * 4;
    this.ws.view(valuesAt, nc).set(values);
    this.filterAt(valuesAt, outAt, c, alpha, reverse, excludeSelf);
    out.set(this.ws.view(outAt, nc));
  }

  /** The filter on N×c arrays already in the workspace, at byte offsets `valuesAt` → `outAt`. */
  filterAt(
    valuesAt: number,
    outAt: number,
    c: number,
    alpha: number,
    reverse: boolean,
    excludeSelf: boolean,
  ): void {
    const { n, d1, m, ws } = this;
    const rows = (m + 1) * c;
    if (this.bufs.floats < rows) this.bufs = { a: ws.alloc(rows), b: ws.alloc(rows), floats: rows };
    const bufA = this.bufs.a;
    const bufB = this.bufs.b;
    const f32 = new Float32Array(ws.ex.memory.buffer);
    f32.fill(0, bufA >> 2, (bufA >> 2) + rows);
    f32.fill(0, (bufB >> 2) + m * c, (bufB >> 2) + rows); // the zero row stands for missing neighbours
    const ex = ws.ex;
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
  }
}

interface MeanFieldExports extends KernelExports {
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

  /**
   * Grows the memory to at least `bytes` now, while it is still untouched:
   * growing a memory whose pages are in use costs ~0.5 ms per MB here.
   */
  reserve(bytes: number): void {
    const mem = this.ex.memory;
    const have = mem.buffer.byteLength;
    if (bytes > have) mem.grow(Math.ceil((bytes - have) / PAGE));
  }

  /** Reserves `floats` float32s (16-byte aligned); returns the byte offset. */
  alloc(floats: number): number {
    const at = this.top;
    this.top += Math.ceil((floats * 4) / 16) * 16;
    const mem = this.ex.memory;
    const have = mem.buffer.byteLength;
    // Grow by at least half the current size: fewer (possibly copying) grows.
    if (this.top > have) mem.grow(Math.ceil(Math.max(this.top - have, have / 2) / PAGE));
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
