/**
 * Decoding `ŷ = argmin_y 2 − 2⟨h(x), ψ(y)⟩` (Yang, Labeau and d'Alché-Buc,
 * arXiv 2411.11682; §6 of methods.md): over a candidate set, or by projected
 * gradient descent over a continuous relaxation of y from several starts,
 * rounded at the end.
 */
import {
  assertLiveTensor,
  formatShape,
  optionsObject,
  SegRangeError,
  SegShapeError,
} from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { checkFunction, checkMatrix, intOption, positiveOption } from './check.js';
import { normalizeRows } from './nt-xent.js';

/** Options of {@link decodeCandidates}. */
export interface CandidateOptions {
  /** How many best candidates to return per example, best first. @default 1 */
  k?: number;
  /** Examples scored per matrix product (bounds memory to `chunk·m` floats). @default 256 */
  chunk?: number;
}

/** What {@link decodeCandidates} returns. */
export interface CandidateDecoding {
  /** `[b·k]` candidate indices, example-major (`[i*k + r]` is example i's r-th best). */
  indices: Int32Array;
  /** `[b·k]` scores `2 − 2⟨h_i, ψ_c⟩` of those candidates (the learned loss when h is unit norm). */
  losses: Float32Array;
}

/**
 * Decodes over a candidate set: for each row `h_i`, the `k` candidates `c`
 * with the smallest `2 − 2⟨h_i, ψ_c⟩` (ties: the smaller index first).
 *
 * @param h `[b,d]` float32 surrogate predictions `h(x_i)`.
 * @param candidates `[m,d]` float32 candidate embeddings `ψ(y_c)` (unit rows), m ≥ k.
 * @returns indices and scores, example-major; plain arrays (no tensors).
 * @throws SegShapeError on shapes that do not match, SegRangeError unless 1 ≤ k ≤ m.
 *
 * @example
 * const { indices } = decodeCandidates(h, embedOutputs(encoder, trainGraphs));
 * const predicted = Array.from(indices, (c) => trainGraphs[c]);
 */
export function decodeCandidates(
  h: tf.Tensor,
  candidates: tf.Tensor,
  options: CandidateOptions = {},
): CandidateDecoding {
  const fn = 'decodeCandidates';
  options = optionsObject(fn, options);
  const [b, d] = checkMatrix(fn, 'h', h);
  const [m] = checkMatrix(fn, 'candidates', candidates, d);
  const k = intOption(fn, 'k', options.k, 1);
  if (k > m) {
    throw new SegRangeError(
      `${fn}: options.k is ${k}, expected an integer in [1, ${m}] (the candidates)`,
    );
  }
  const chunk = intOption(fn, 'chunk', options.chunk, 256);
  const indices = new Int32Array(b * k);
  const losses = new Float32Array(b * k);
  // An explicit transpose, once: tfjs-wasm's transposed products are on a slow path.
  const candT = tf.transpose(candidates as tf.Tensor2D);
  for (let s = 0; s < b; s += chunk) {
    const rows = Math.min(chunk, b - s);
    const [vals, idx] = tf.tidy(() => {
      const hs = tf.slice(h as tf.Tensor2D, [s, 0], [rows, d]);
      const ip = tf.matMul(hs, candT);
      const top = tf.topk(ip, k, true);
      return [top.values.dataSync(), top.indices.dataSync()];
    });
    for (let j = 0; j < rows * k; j++) {
      indices[s * k + j] = idx[j]!;
      losses[s * k + j] = 2 - 2 * vals[j]!;
    }
  }
  candT.dispose();
  return { indices, losses };
}

/**
 * Euclidean projection of every row (last axis) of `x` onto the probability
 * simplex `{p ≥ 0, Σ p = 1}` (the sort-and-threshold algorithm of Held,
 * Wolfe and Crowder 1974 / Duchi et al. 2008).
 *
 * @param x float32 tensor of rank ≥ 1 with a last axis of size K ≥ 1.
 * @returns the projection, same shape; not differentiable (a projection step).
 * @throws SegShapeError unless `x` is a float32 tensor of rank ≥ 1.
 *
 * @example
 * const p = projectSimplex(tf.tensor2d([[0.9, 0.6, -1]])); // [[0.65, 0.35, 0]]
 */
export function projectSimplex(x: tf.Tensor): tf.Tensor {
  const fn = 'projectSimplex';
  assertLiveTensor(fn, 'x', x);
  if (x.rank < 1 || x.dtype !== 'float32' || x.shape[x.rank - 1]! < 1) {
    throw new SegShapeError(
      `${fn}: x has shape ${formatShape(x.shape)} and dtype ${x.dtype}, expected float32 with a last axis ≥ 1`,
    );
  }
  return simplexProjection(x);
}

/** {@link projectSimplex} without the checks. */
export function simplexProjection(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const k = x.shape[x.rank - 1]!;
    const u = tf.topk(x, k, true).values; // sorted, descending
    const css = tf.cumsum(u, x.rank - 1);
    const j = tf.range(1, k + 1);
    // u_j − (css_j − 1)/j > 0 holds for a prefix j = 1..ρ of the sorted entries.
    const ok = tf.cast(tf.greater(tf.sub(u, tf.div(tf.sub(css, 1), j)), 0), 'float32');
    const rho = tf.sum(ok, -1, true); // ≥ 1
    const cssRho = tf.sum(
      tf.mul(css, tf.oneHot(tf.cast(tf.sub(tf.squeeze(rho, [-1]), 1), 'int32'), k)),
      -1,
      true,
    );
    const theta = tf.div(tf.sub(cssRho, 1), rho);
    return tf.relu(tf.sub(x, theta));
  });
}

/**
 * A continuous relaxation of the outputs, for {@link decodeGradient}. The
 * relaxed variable is a list of tensors whose first axis runs over the
 * `b·s` (example, start) pairs, example-major.
 */
export interface RelaxedProblem<Y> {
  /** The starting points: tensors with a first axis of `b·s` (not modified; not disposed). */
  starts: readonly tf.Tensor[];
  /** `[b·s, d]` raw embeddings of relaxed outputs, differentiable in them (normalized here). */
  embed(relaxed: readonly tf.Tensor[]): tf.Tensor2D;
  /** The projection onto the relaxed set (e.g. {@link projectSimplex} on one-hot blocks). */
  project(relaxed: readonly tf.Tensor[]): tf.Tensor[];
  /** Rounds `b·s` relaxed outputs to discrete ones. */
  round(relaxed: readonly tf.Tensor[]): Y[];
  /** `[n,d]` raw embeddings of discrete outputs (the rounded ones are rescored with it). */
  embedOutputs(outputs: readonly Y[]): tf.Tensor2D;
}

/** Options of {@link decodeGradient}. */
export interface GradientDecodingOptions {
  /** Projected gradient steps. @default 50 */
  steps?: number;
  /** Step size. @default 0.5 */
  learningRate?: number;
  /** Also round the starts themselves and keep them when they score better. @default true */
  keepStarts?: boolean;
  /**
   * Also round (and rescore) the iterates every this many steps, not only
   * the last one: the rounding of an earlier iterate may score better.
   * @default steps (the last iterate only)
   */
  roundEvery?: number;
}

/** What {@link decodeGradient} returns. */
export interface GradientDecoding<Y> {
  /** The decoded output of each example. */
  outputs: Y[];
  /** `[b]` learned losses `2 − 2⟨h_i, ψ(ŷ_i)⟩` (h normalized to unit norm). */
  losses: Float32Array;
  /**
   * `[b]` which rounded output won, `g·S + s` for start `s`: group `g = 0` is
   * the last iterate, `1..k` the earlier iterates rounded (`roundEvery`), in
   * step order, and the last group the rounded starts themselves (`keepStarts`).
   */
  start: Int32Array;
  /** `[steps + 1]` mean relaxed objective over all (example, start) pairs, after each step (0: at the starts). */
  trace: number[];
}

/**
 * Decodes by projected gradient descent on `Σ 2 − 2⟨ĥ_i, ψ(z)⟩` (ĥ_i =
 * h_i/‖h_i‖, ψ(z) the normalized `problem.embed(z)`) from every start,
 * `z ← project(z − η ∇)`, then rounds every result with `problem.round`,
 * rescores the rounded outputs with `problem.embedOutputs` and keeps, per
 * example, the one with the smallest learned loss.
 *
 * @param h `[b,d]` float32 surrogate predictions.
 * @param problem the relaxation; `starts` hold `b·s` rows each, example-major.
 * @throws SegShapeError when the starts' first axes are not a multiple of b
 * or the embeddings have the wrong shape; SegValueError / SegRangeError on bad options.
 *
 * @example
 * const { outputs } = decodeGradient(h, { starts: [nodes, bonds], embed, project, round, embedOutputs });
 */
export function decodeGradient<Y>(
  h: tf.Tensor,
  problem: RelaxedProblem<Y>,
  options: GradientDecodingOptions = {},
): GradientDecoding<Y> {
  const fn = 'decodeGradient';
  options = optionsObject(fn, options);
  const [b, d] = checkMatrix(fn, 'h', h);
  for (const name of ['embed', 'project', 'round', 'embedOutputs'] as const) {
    checkFunction(fn, `problem.${name}`, problem?.[name]);
  }
  const starts = problem.starts;
  if (!Array.isArray(starts) || starts.length === 0) {
    throw new SegShapeError(
      `${fn}: problem.starts is ${String(starts)}, expected a non-empty tf.Tensor[]`,
    );
  }
  for (let i = 0; i < starts.length; i++) assertLiveTensor(fn, `problem.starts[${i}]`, starts[i]);
  const rows = starts[0]!.shape[0] ?? 0;
  for (let i = 0; i < starts.length; i++) {
    const r = starts[i]!.shape[0];
    if (r !== rows || rows === 0 || rows % b !== 0) {
      throw new SegShapeError(
        `${fn}: problem.starts[${i}] has shape ${formatShape(starts[i]!.shape)}, expected a first axis of b·s with b = ${b}${i > 0 ? ` (${rows} like starts[0])` : ''}`,
      );
    }
  }
  const s = rows / b;
  const steps = intOption(fn, 'steps', options.steps, 50, 0);
  const lr = positiveOption(fn, 'learningRate', options.learningRate, 0.5);
  const keepStarts = options.keepStarts ?? true;
  const roundEvery = intOption(fn, 'roundEvery', options.roundEvery, Math.max(steps, 1));

  const target = tf.tidy(() => {
    const hn = normalizeRows(h as tf.Tensor2D);
    return tf.gather(
      hn,
      tf.tensor1d(
        Int32Array.from({ length: rows }, (_, r) => Math.floor(r / s)),
        'int32',
      ),
    );
  });
  const objective = (zs: readonly tf.Tensor[]): tf.Scalar => {
    const e = problem.embed(zs);
    if (e.rank !== 2 || e.shape[0] !== rows || e.shape[1] !== d) {
      throw new SegShapeError(
        `${fn}: problem.embed(relaxed) has shape ${formatShape(e.shape)}, expected [${rows},${d}]`,
      );
    }
    return tf.sum(tf.sub(2, tf.mul(2, tf.sum(tf.mul(target, normalizeRows(e)), 1))));
  };
  const trace: number[] = [];
  let z: tf.Tensor[] = starts.map((t) => t.clone());
  const roundedEarlier: Y[] = [];
  try {
    for (let step = 0; step <= steps; step++) {
      const next: tf.Tensor[] = tf.tidy(() => {
        const { value: v, grads: g } = tf.valueAndGrads((...zs: tf.Tensor[]) => objective(zs))(z);
        trace.push(v.dataSync()[0]! / rows);
        if (step === steps) return [];
        return problem.project(z.map((zi, i) => tf.sub(zi, tf.mul(g[i]!, lr))));
      });
      if (step === steps) break;
      tf.dispose(z);
      z = next;
      if ((step + 1) % roundEvery === 0 && step + 1 < steps)
        roundedEarlier.push(...problem.round(z));
    }
    const candidates = problem.round(z);
    candidates.push(...roundedEarlier);
    if (keepStarts) candidates.push(...problem.round(starts));
    const n = candidates.length;
    const groups = n / rows;
    // The last iterate, the iterates at k·roundEvery < steps, the starts.
    const checkpoints = steps > 0 ? Math.floor((steps - 1) / roundEvery) : 0;
    const expected = 1 + checkpoints + (keepStarts ? 1 : 0);
    if (!Number.isInteger(groups) || groups !== expected) {
      throw new SegShapeError(
        `${fn}: problem.round returned ${n} outputs over ${expected} roundings, expected ${rows} each`,
      );
    }
    const scores = tf.tidy(() => {
      const e = problem.embedOutputs(candidates);
      if (e.rank !== 2 || e.shape[0] !== n || e.shape[1] !== d) {
        throw new SegShapeError(
          `${fn}: problem.embedOutputs(outputs) has shape ${formatShape(e.shape)}, expected [${n},${d}]`,
        );
      }
      const t = groups === 1 ? target : tf.concat(Array(groups).fill(target), 0);
      return tf.sub(2, tf.mul(2, tf.sum(tf.mul(t, normalizeRows(e)), 1))).dataSync();
    });
    const outputs: Y[] = [];
    const losses = new Float32Array(b);
    const start = new Int32Array(b);
    for (let i = 0; i < b; i++) {
      let best = -1;
      let bestLoss = Infinity;
      const at = (c: number) => Math.floor(c / s) * rows + i * s + (c % s);
      for (let c = 0; c < groups * s; c++) {
        if (scores[at(c)]! < bestLoss) {
          bestLoss = scores[at(c)]!;
          best = c;
        }
      }
      outputs.push(candidates[at(best)]!);
      losses[i] = bestLoss;
      start[i] = best;
    }
    return { outputs, losses, start, trace };
  } finally {
    tf.dispose(z);
    target.dispose();
  }
}
