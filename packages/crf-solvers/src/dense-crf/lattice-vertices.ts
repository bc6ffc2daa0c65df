/**
 * The lattice's vertices: the distinct simplex vertices of the points, each
 * given a dense index by a hash table on its d integer coordinates, and
 * their blur neighbours along the d+1 lattice directions.
 */
import type { Embedding } from './lattice-kernels.js';

/**
 * Dense vertex indices for the points' simplex vertices, in order of first
 * appearance: `vertexOf` (N×(d+1)) and the table of distinct keys.
 * Neighbouring points often share vertices without sharing the simplex: a
 * key equal to the same vertex's key of the last point hashed takes its
 * index without a lookup (the index the table would give).
 */
export function hashVertices(
  embedding: Embedding,
  n: number,
  d: number,
): { vertexOf: Int32Array; table: KeyTable } {
  const d1 = d + 1;
  const { keys, same } = embedding;
  const vertexOf = new Int32Array(n * d1);
  const table = new KeyTable(d, Math.min(n * d1, 1 << 16));
  let last = -1; // the last point whose keys were hashed
  for (let p = 0; p < n; p++) {
    const vo = p * d1;
    if (same[p] === 1) {
      for (let k = 0; k < d1; k++) vertexOf[vo + k] = vertexOf[vo - d1 + k]!;
      continue;
    }
    for (let k = 0; k < d1; k++) {
      const ko = (vo + k) * d;
      if (last >= 0) {
        const lo = (last * d1 + k) * d;
        let i = 0;
        while (i < d && keys[ko + i] === keys[lo + i]) i++;
        if (i === d) {
          vertexOf[vo + k] = vertexOf[last * d1 + k]!;
          continue;
        }
      }
      vertexOf[vo + k] = table.insertFrom(keys, ko);
    }
    last = p;
  }
  return { vertexOf, table };
}

/**
 * Per direction j (d+1 of them), per vertex v, the indices of the two
 * vertices `key ± (1,…,1) ∓ (d+1)e_j` (m = table.size where one is missing):
 * `(d+1)×m×2`, at `(j·m + v)·2`. The table's hash is linear in the key, so
 * a neighbour's hash is the vertex's plus a constant per direction.
 */
export function findNeighbors(table: KeyTable): Int32Array {
  const d = table.d;
  const d1 = d + 1;
  const m = table.size;
  const neighbors = new Int32Array(d1 * m * 2);
  const raw = new Int32Array(m);
  for (let v = 0; v < m; v++) raw[v] = table.rawHash(table.keys, v * d);
  for (let j = 0; j < d1; j++) {
    const base = j * m * 2;
    // hash(key − 1 + (d+1)e_j) − hash(key), and the opposite for the other neighbour
    const shift = table.shiftHash(j);
    for (let v = 0; v < m; v++) {
      const a = table.findShifted(v, (raw[v]! + shift) | 0, -1, j);
      const b = table.findShifted(v, (raw[v]! - shift) | 0, 1, j);
      neighbors[base + 2 * v] = a < 0 ? m : a;
      neighbors[base + 2 * v + 1] = b < 0 ? m : b;
    }
  }
  return neighbors;
}

/**
 * Open-addressing hash table from d-int keys to dense vertex indices, in
 * order of insertion. The hash is `fmix32(Σ_i P_i·k_i)` (odd P_i; MurmurHash3's
 * finaliser), linear in the key before the mix.
 */
export class KeyTable {
  /** The keys by index, size×d (capacity×d allocated). */
  keys: Int32Array;
  /** Distinct keys so far. */
  size = 0;
  private slots: Int32Array;
  private mask: number;
  private capacity: number;
  /** The multipliers P_i of the hash. */
  private readonly mult: Int32Array;
  constructor(
    readonly d: number,
    capacity: number,
  ) {
    this.capacity = Math.max(16, capacity);
    this.keys = new Int32Array(this.capacity * d);
    let t = 32;
    while (t < this.capacity * 2) t *= 2;
    this.slots = new Int32Array(t).fill(-1);
    this.mask = t - 1;
    this.mult = new Int32Array(d);
    // unrelated odd multipliers (a progression P·(2i+1) would map keys onto few sums)
    for (let i = 0; i < d; i++) this.mult[i] = fmix32(Math.imul(0x9e3779b1, i + 1)) | 1;
  }

  /** `Σ_i P_i·src[off + i]` (int32, wrapping): the hash before the mix. */
  rawHash(src: Int32Array, off: number): number {
    let h = 0;
    const mult = this.mult;
    for (let i = 0; i < this.d; i++) h = (h + Math.imul(src[off + i]!, mult[i]!)) | 0;
    return h;
  }

  /** `rawHash(key − (1,…,1) + (d+1)e_j) − rawHash(key)` (no e_j term for j = d). */
  shiftHash(j: number): number {
    let h = 0;
    for (let i = 0; i < this.d; i++) h = (h - this.mult[i]!) | 0;
    if (j < this.d) h = (h + Math.imul(this.d + 1, this.mult[j]!)) | 0;
    return h;
  }

  private slot(raw: number): number {
    return fmix32(raw) & this.mask;
  }

  /**
   * The index of vertex v's key shifted by `sign·((1,…,1) − (d+1)e_j)`
   * (j = d: no e_j term), whose raw hash is `raw`; −1 if absent.
   */
  findShifted(v: number, raw: number, sign: number, j: number): number {
    const d = this.d;
    const keys = this.keys;
    const slots = this.slots;
    const ko = v * d;
    const dj = -sign * (d + 1);
    let h = this.slot(raw);
    for (;;) {
      const s = slots[h]!;
      if (s < 0) return -1;
      const o = s * d;
      let i = 0;
      while (i < d && keys[o + i] === keys[ko + i]! + sign + (i === j ? dj : 0)) i++;
      if (i === d) return s;
      h = (h + 1) & this.mask;
    }
  }

  /** The index of `key` (d ints), or −1. */
  find(key: Int32Array): number {
    const d = this.d;
    const keys = this.keys;
    const slots = this.slots;
    let h = this.slot(this.rawHash(key, 0));
    for (;;) {
      const s = slots[h]!;
      if (s < 0) return -1;
      const o = s * d;
      let eq = true;
      for (let i = 0; i < d; i++) {
        if (keys[o + i] !== key[i]) {
          eq = false;
          break;
        }
      }
      if (eq) return s;
      h = (h + 1) & this.mask;
    }
  }

  /** Inserts the key `src[off .. off+d)` if absent; returns its index. */
  insertFrom(src: Int32Array, off: number): number {
    const d = this.d;
    let keys = this.keys;
    const slots = this.slots;
    const raw = this.rawHash(src, off);
    let h = this.slot(raw);
    for (;;) {
      const s = slots[h]!;
      if (s < 0) break;
      const o = s * d;
      let eq = true;
      for (let i = 0; i < d; i++) {
        if (keys[o + i] !== src[off + i]) {
          eq = false;
          break;
        }
      }
      if (eq) return s;
      h = (h + 1) & this.mask;
    }
    const idx = this.size++;
    if (idx < this.capacity) {
      for (let i = 0; i < d; i++) keys[idx * d + i] = src[off + i]!;
      slots[h] = idx;
      return idx;
    }
    this.grow();
    keys = this.keys;
    for (let i = 0; i < d; i++) keys[idx * d + i] = src[off + i]!;
    h = this.slot(raw);
    while (this.slots[h]! >= 0) h = (h + 1) & this.mask;
    this.slots[h] = idx;
    return idx;
  }

  private grow(): void {
    const d = this.d;
    this.capacity *= 2;
    const keys = new Int32Array(this.capacity * d);
    keys.set(this.keys);
    this.keys = keys;
    const t = this.slots.length * 2;
    this.slots = new Int32Array(t).fill(-1);
    this.mask = t - 1;
    for (let s = 0; s < this.size - 1; s++) {
      let h = this.slot(this.rawHash(keys, s * d));
      while (this.slots[h]! >= 0) h = (h + 1) & this.mask;
      this.slots[h] = s;
    }
  }
}

/** MurmurHash3's 32-bit finaliser: every input bit moves every output bit. */
function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
