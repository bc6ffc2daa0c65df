/**
 * The lattice's splat / blur / slice in WebAssembly SIMD (kernels.wat): one
 * small instance per lattice, holding its index arrays in its own memory.
 */
import type { LatticeArrays, LatticeKernels, RawForms } from '../lattice-kernels.js';
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
  sliceAffine(
    buf: number,
    values: number,
    c: number,
    n: number,
    d1: number,
    vtx: number,
    bary: number,
    alpha: number,
    fix: number,
    cv: number,
    cc: number,
    out: number,
  ): void;
  sliceAffine6(
    buf: number,
    values: number,
    c: number,
    n: number,
    vtx: number,
    bary: number,
    alpha: number,
    fix: number,
    cv: number,
    cc: number,
    out: number,
  ): void;
  splat3(values: number, c: number, n: number, vtx: number, bary: number, buf: number): void;
  splat6(values: number, c: number, n: number, vtx: number, bary: number, buf: number): void;
  slice3(
    buf: number,
    values: number,
    c: number,
    n: number,
    vtx: number,
    bary: number,
    alpha: number,
    fix: number,
    out: number,
  ): void;
  slice6(
    buf: number,
    values: number,
    c: number,
    n: number,
    vtx: number,
    bary: number,
    alpha: number,
    fix: number,
    out: number,
  ): void;
  splatStats6(
    values: number,
    c: number,
    n: number,
    vtx: number,
    bary: number,
    buf: number,
    fix: number,
    blk: number,
    acc: number,
    rowSums: number,
  ): number;
  rowStats(
    values: number,
    c: number,
    n: number,
    fix: number,
    blk: number,
    acc: number,
    rowSums: number,
  ): number;
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
export class WasmLatticeKernels implements LatticeKernels {
  private readonly ws: WasmWorkspace;
  private readonly vtx: number;
  private readonly bary: number;
  private readonly nb: number;
  private readonly fix: number;
  private readonly negSelf: number;
  private io = { at: 0, floats: -1 };
  private bufs = { a: 0, b: 0, floats: -1 };
  /** The quadratic forms' vertex buffers: u (the splat, kept), four for the blurs; (m+1)×c each. */
  private qbufs = { u: 0, a: 0, b: 0, c: 0, d: 0, floats: -1 };
  /** Scratch of the forms: rowStats' blk and acc, the slice's cv and cc (for up to `cap` channels), the row sums. */
  private qscratch = { blk: 0, acc: 0, cv: 0, cc: 0, rows: -1, cap: 0 };
  /** z = B·splat(1), m+1 floats (row m zero), or -1 before the first use. */
  private zAt = -1;
  /** The token of the forms whose values and splat the workspace holds now (null: none). */
  private owner: object | null = null;
  /** @internal Use the specialised kernels (splat3/6 and slice3/6 in filters; splatStats6, sliceAffine6 in the forms) where they apply. */
  specialized = true;

  private readonly n: number;
  private readonly d1: number;
  private readonly m: number;
  private readonly ownsWorkspace: boolean;

  constructor(lattice: LatticeArrays, workspace?: WasmWorkspace) {
    const { n, d1, m, vertexOf, baryOf, neighbors, selfFix, negSelf } = lattice;
    this.n = n;
    this.d1 = d1;
    this.m = m;
    // a workspace of its own: the one a disposed CRF or lattice gave back, if any (pages mapped)
    const ws = workspace ?? takeWorkspace(0);
    this.ownsWorkspace = workspace === undefined;
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

  /** Gives the workspace back for the next lattice or CRF if it is the lattice's own. */
  release(): void {
    if (this.ownsWorkspace) giveBackWorkspace(this.ws);
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
    const valuesAt = this.ioRegion(c);
    const outAt = valuesAt + nc * 4;
    this.ws.view(valuesAt, nc).set(values);
    this.filterAt(valuesAt, outAt, c, alpha, reverse, excludeSelf);
    out.set(this.ws.view(outAt, nc));
  }

  /** The I/O region (values, then out: N×c each); returns its byte offset. */
  private ioRegion(c: number): number {
    const nc = this.n * c;
    if (this.io.floats < 2 * nc) {
      this.io = { at: this.ws.alloc(2 * nc), floats: 2 * nc };
      this.owner = null;
    }
    return this.io.at;
  }

  /** Allocates the forms' buffers for c channels (once per c); zeroes the missing-neighbour rows. */
  private formBuffers(c: number): void {
    const { m, ws } = this;
    const rows = (m + 1) * c;
    if (this.qbufs.floats < rows) {
      this.qbufs = {
        u: ws.alloc(rows),
        a: ws.alloc(rows),
        b: ws.alloc(rows),
        c: ws.alloc(rows),
        d: ws.alloc(rows),
        floats: rows,
      };
      this.owner = null;
    }
    const sc = this.qscratch;
    if (sc.rows < 0) sc.rows = ws.alloc(this.n);
    if (sc.cap < c) {
      // grows only: alternating channel counts reuse the largest
      sc.blk = ws.alloc(2 * c);
      sc.acc = ws.alloc(4 * c);
      sc.cv = ws.alloc(c);
      sc.cc = ws.alloc(c);
      sc.cap = c;
    }
    if (this.zAt < 0) {
      // z = B·splat(1): a ones array and three one-channel vertex buffers.
      const ones = ws.alloc(this.n);
      const z0 = ws.alloc(m + 1);
      const z1 = ws.alloc(m + 1);
      const z2 = ws.alloc(m + 1);
      const f32 = new Float32Array(ws.ex.memory.buffer);
      f32.fill(1, ones >> 2, (ones >> 2) + this.n);
      f32.fill(0, z0 >> 2, (z2 >> 2) + m + 1);
      ws.ex.splat(ones, 1, this.n, this.d1, this.vtx, this.bary, z0);
      this.zAt = this.blurFrom(z0, 1, false, z1, z2);
    }
    const f32 = new Float32Array(ws.ex.memory.buffer);
    const q = this.qbufs;
    for (const b of [q.a, q.b, q.c, q.d]) f32.fill(0, (b >> 2) + m * c, (b >> 2) + rows);
  }

  /**
   * Blurs `src` along the d+1 directions (reversed if asked) through `t1`, `t2`
   * (`src` unchanged); returns the buffer holding the result.
   */
  private blurFrom(src: number, c: number, reverse: boolean, t1: number, t2: number): number {
    const { d1, m } = this;
    let from = src;
    for (let t = 0; t < d1; t++) {
      const j = reverse ? d1 - 1 - t : t;
      const to = t % 2 === 0 ? t1 : t2;
      this.ws.ex.blur(from, to, c, m, this.nb + j * m * 8);
      from = to;
    }
    return from;
  }

  /**
   * Splats `values` (N×c) into the kept buffer u, blurs it once and returns the
   * raw parts of the quadratic forms; the workspace then holds `values` and u
   * for {@link WasmLatticeKernels.gradient} with the same `token`.
   */
  forms(values: Float32Array, c: number, token: object): RawForms {
    const { n, d1, m, ws } = this;
    const valuesAt = this.ioRegion(c);
    this.formBuffers(c);
    const q = this.qbufs;
    const sc = this.qscratch;
    const rows = (m + 1) * c;
    ws.view(valuesAt, n * c).set(values);
    const ex = ws.ex;
    new Float32Array(ex.memory.buffer).fill(0, q.u >> 2, (q.u >> 2) + rows);
    new Float64Array(ex.memory.buffer, sc.acc, 2 * c).fill(0);
    let min: number;
    if (d1 === 6 && this.specialized) {
      min = ex.splatStats6(
        valuesAt,
        c,
        n,
        this.vtx,
        this.bary,
        q.u,
        this.fix,
        sc.blk,
        sc.acc,
        sc.rows,
      );
    } else {
      ex.splat(valuesAt, c, n, d1, this.vtx, this.bary, q.u);
      min = ex.rowStats(valuesAt, c, n, this.fix, sc.blk, sc.acc, sc.rows);
    }
    const blurred = this.blurFrom(q.u, c, false, q.a, q.b);
    const buf = ex.memory.buffer;
    const u = new Float32Array(buf, q.u, rows);
    const bu = new Float32Array(buf, blurred, rows);
    const z = new Float32Array(buf, this.zAt, m + 1);
    const splatBlur = new Float64Array(c);
    const splatDegree = new Float64Array(c);
    for (let v = 0; v < m; v++) {
      const o = v * c;
      const zv = z[v]!;
      for (let k = 0; k < c; k++) {
        const uv = u[o + k]!;
        splatBlur[k]! += uv * bu[o + k]!;
        splatDegree[k]! += zv * uv;
      }
    }
    this.owner = token;
    return {
      splatBlur,
      splatDegree,
      self: new Float64Array(buf, sc.acc, 2 * c).slice(),
      rowSums: new Float32Array(buf, sc.rows, n).slice(),
      min,
      splat: u.slice(),
    };
  }

  /**
   * `out = b_k·((W + Wᵀ)·v)_pk + a_k·(W·1)_p` (`symmetric`: `2·W·v` for
   * `(W + Wᵀ)·v`) for the values and splat of the forms of `token` (copied in
   * again unless the workspace still holds them).
   */
  gradient(
    token: object,
    values: Float32Array,
    splat: Float32Array,
    c: number,
    alpha: number,
    scale: Float64Array,
    degreeScale: Float64Array,
    symmetric: boolean,
    out: Float32Array,
  ): void {
    const { n, d1, m, ws } = this;
    const valuesAt = this.ioRegion(c);
    this.formBuffers(c);
    const q = this.qbufs;
    const sc = this.qscratch;
    const ex = ws.ex;
    if (this.owner !== token) {
      ws.view(valuesAt, n * c).set(values);
      ws.view(q.u, (m + 1) * c).set(splat);
      this.owner = token;
    }
    const r1 = this.blurFrom(q.u, c, false, q.a, q.b);
    const r2 = symmetric ? r1 : this.blurFrom(q.u, c, true, q.c, q.d);
    const buf = ex.memory.buffer;
    const rows = m * c;
    const v1 = new Float32Array(buf, r1, rows);
    const v2 = new Float32Array(buf, r2, rows);
    const z = new Float32Array(buf, this.zAt, m);
    const cv = new Float32Array(buf, sc.cv, c);
    const cc = new Float32Array(buf, sc.cc, c);
    // The vertex values whose slice is the result: b_k·(B + Bᵀ)u + a_k·z, into r1.
    for (let k = 0; k < c; k++) {
      cv[k] = 2 * scale[k]!;
      cc[k] = degreeScale[k]!;
    }
    for (let v = 0; v < m; v++) {
      const o = v * c;
      const zv = z[v]!;
      for (let k = 0; k < c; k++)
        v1[o + k] = scale[k]! * (v1[o + k]! + v2[o + k]!) + degreeScale[k]! * zv;
    }
    const outAt = valuesAt + n * c * 4;
    if (d1 === 6 && this.specialized) {
      ex.sliceAffine6(
        r1,
        valuesAt,
        c,
        n,
        this.vtx,
        this.bary,
        alpha,
        this.fix,
        sc.cv,
        sc.cc,
        outAt,
      );
    } else {
      ex.sliceAffine(
        r1,
        valuesAt,
        c,
        n,
        d1,
        this.vtx,
        this.bary,
        alpha,
        this.fix,
        sc.cv,
        sc.cc,
        outAt,
      );
    }
    out.set(ws.view(outAt, n * c));
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
    this.owner = null;
    const rows = (m + 1) * c;
    if (this.bufs.floats < rows) this.bufs = { a: ws.alloc(rows), b: ws.alloc(rows), floats: rows };
    const bufA = this.bufs.a;
    const bufB = this.bufs.b;
    const f32 = new Float32Array(ws.ex.memory.buffer);
    f32.fill(0, bufA >> 2, (bufA >> 2) + rows);
    f32.fill(0, (bufB >> 2) + m * c, (bufB >> 2) + rows); // the zero row stands for missing neighbours
    const ex = ws.ex;
    if (d1 === 6 && this.specialized) ex.splat6(valuesAt, c, n, this.vtx, this.bary, bufA);
    else if (d1 === 3 && this.specialized) ex.splat3(valuesAt, c, n, this.vtx, this.bary, bufA);
    else ex.splat(valuesAt, c, n, d1, this.vtx, this.bary, bufA);
    let src = bufA;
    let dst = bufB;
    for (let t = 0; t < d1; t++) {
      const j = reverse ? d1 - 1 - t : t;
      ex.blur(src, dst, c, m, this.nb + j * m * 8);
      const tmp = src;
      src = dst;
      dst = tmp;
    }
    const fix = excludeSelf ? this.negSelf : this.fix;
    if (d1 === 6 && this.specialized) {
      ex.slice6(src, valuesAt, c, n, this.vtx, this.bary, alpha, fix, outAt);
    } else if (d1 === 3 && this.specialized) {
      ex.slice3(src, valuesAt, c, n, this.vtx, this.bary, alpha, fix, outAt);
    } else {
      ex.slice(src, valuesAt, c, n, d1, this.vtx, this.bary, alpha, fix, outAt);
    }
  }
}

interface MeanFieldExports extends KernelExports {
  scaleRows(src: number, norm: number, dst: number, n: number, k: number): void;
  addScaledRows(acc: number, msg: number, norm: number, w: number, n: number, k: number): void;
  softmaxRows(logits: number, q: number, n: number, k: number): void;
  embedHash(
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
    diff: number,
    byRank: number,
    outBary: number,
    outSame: number,
    key: number,
    mult: number,
    slots: number,
    mask: number,
    uniq: number,
    cap: number,
    vtx: number,
  ): number;
  neighbours(
    uniq: number,
    m: number,
    d: number,
    mult: number,
    slots: number,
    mask: number,
    key: number,
    nb: number,
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

  /** Frees every region at once (the memory keeps its size): the next `alloc` starts at 0. */
  reset(): void {
    this.top = 0;
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

/** The workspace a disposed dense CRF gave back, held weakly (the GC may still free it). */
let spareWorkspace: WeakRef<WasmWorkspace> | null = null;

/**
 * An empty workspace with at least `bytes` of memory: the one a disposed
 * dense CRF gave back ({@link giveBackWorkspace}) if the GC has not freed it,
 * whose pages are already mapped (the first writes to new wasm memory cost
 * about 0.5 ms per MB, ~60 ms for a 500×375, 21-label CRF), else a new one.
 */
export function takeWorkspace(bytes: number): WasmWorkspace {
  const ws = spareWorkspace?.deref() ?? new WasmWorkspace();
  spareWorkspace = null;
  ws.reset();
  ws.reserve(bytes);
  return ws;
}

/** Gives `ws` back for the next {@link takeWorkspace}; nothing may use its regions afterwards. */
export function giveBackWorkspace(ws: WasmWorkspace): void {
  spareWorkspace = new WeakRef(ws);
}

/**
 * Scratch memory of {@link embedAndHash}, kept from one lattice to the next
 * while it holds at most {@link EMBED_SCRATCH_MAX_BYTES}: the first writes
 * to new wasm pages cost about as much as the simplex search itself, so a
 * fresh memory per lattice would double its time.
 */
let embedScratch: WasmWorkspace | null = null;

/** Largest scratch memory {@link embedAndHash} keeps between calls (64 MiB: 500×375 points in 5-D take ~15 MB). */
export const EMBED_SCRATCH_MAX_BYTES = 64 * 2 ** 20;

/**
 * The enclosing simplex of every point and the numbering of their vertices,
 * in one wasm pass (`embedHash`): barycentric weights (N×(d+1)), `vertexOf`
 * (N×(d+1), vertices numbered in order of first appearance), their number m
 * and `neighbors()`, the blur neighbours of the vertices found in the same
 * hash table (`neighbours`; (d+1)×m×2, m where absent). The arrays are views
 * of the scratch memory, valid until the next call (the lattice's kernels
 * copy them). The hash table starts at min(2·N·(d+1), 2^17) slots and the
 * pass is redone with twice as many whenever it would be more than half full.
 */
export function embedAndHash(
  features: Float32Array,
  d: number,
  scaleFactor: Float64Array,
): { bary: Float32Array; vertexOf: Int32Array; m: number; neighbors: () => Int32Array } {
  const n = features.length / d;
  const d1 = d + 1;
  const ws = embedScratch ?? new WasmWorkspace();
  embedScratch = null; // not shared while in use (an allocation below may throw)
  let size = 32;
  while (size < Math.min(2 * n * d1, 1 << 17)) size *= 2;
  for (;;) {
    ws.reset();
    const feat = ws.alloc(n * d);
    const sf = ws.alloc(2 * d);
    const el = ws.alloc(2 * d1);
    const rem = ws.alloc(2 * d1);
    const rank = ws.alloc(d1);
    const bary = ws.alloc(2 * (d + 2));
    const prem = ws.alloc(2 * d1);
    const prank = ws.alloc(d1);
    const diff = ws.alloc(2 * d1);
    const byRank = ws.alloc(d1);
    const key = ws.alloc(d);
    const multAt = ws.alloc(d);
    const outBary = ws.alloc(n * d1);
    const outSame = ws.alloc(n);
    const vtx = ws.alloc(n * d1);
    const slots = ws.alloc(size);
    const uniq = ws.alloc((size / 2) * d);
    const nb = ws.alloc((size / 2) * d1 * 2);
    const buf = ws.ex.memory.buffer;
    new Float32Array(buf, feat, n * d).set(features);
    new Float64Array(buf, sf, d).set(scaleFactor);
    const mult = new Int32Array(buf, multAt, d);
    for (let i = 0; i < d; i++) mult[i] = mixBits(Math.imul(0x9e3779b1, i + 1)) | 1;
    new Int32Array(buf, slots, size).fill(0);
    const m = ws.ex.embedHash(
      feat,
      n,
      d,
      sf,
      el,
      rem,
      rank,
      bary,
      prem,
      prank,
      diff,
      byRank,
      outBary,
      outSame,
      key,
      multAt,
      slots,
      size - 1,
      uniq,
      size / 2,
      vtx,
    );
    if (m < 0) {
      size *= 2;
      continue;
    }
    if (buf.byteLength <= EMBED_SCRATCH_MAX_BYTES) embedScratch = ws;
    return {
      bary: new Float32Array(buf, outBary, n * d1),
      vertexOf: new Int32Array(buf, vtx, n * d1),
      m,
      neighbors: () => {
        ws.ex.neighbours(uniq, m, d, multAt, slots, size - 1, key, nb);
        return new Int32Array(buf, nb, d1 * m * 2);
      },
    };
  }
}

/** MurmurHash3's 32-bit finaliser. */
function mixBits(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
