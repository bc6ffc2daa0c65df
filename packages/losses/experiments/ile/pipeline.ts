/**
 * The steps of the QM9 SMILES → molecular graph experiment, as plain
 * functions of plain data so that each can run in a worker thread.
 */
import { readFileSync } from 'node:fs';
import initRDKitModule from '@rdkit/rdkit';
import { Rng } from '@seg/tensor';
import * as tf from '@tensorflow/tfjs-core';
import {
  decodeCandidates,
  decodeGradient,
  embedOutputs,
  fitSurrogate,
  trainOutputEmbedding,
} from '../../src/index.js';
import { graphEditDistance } from './ged.js';
import {
  augmentGraph,
  GraphEncoder,
  graphRelaxation,
  HAMMING_SIZE,
  HammingSkipEncoder,
} from './graph-encoder.js';
import {
  denseGraphs,
  MAX_ATOMS,
  type MoleculeSet,
  type MolGraph,
  readSmilesFile,
} from './mol-graph.js';
import { Mlp, SmilesFeaturizer } from './smiles-encoder.js';

/** Settings of one run (the full run and `--quick` differ only here). */
export interface Config {
  data: string;
  seed: number;
  trainSize: number;
  /** Test molecules evaluated (all the rest with the full run). */
  testSize: number;
  embedEpochs: number;
  embedBatch: number;
  temperature: number;
  embedLr: number;
  dim: number;
  hidden: number;
  /** Readout of the graph encoder (see GraphEncoderOptions). */
  readout: 'sum' | 'sum+ordered';
  /** Augmentation rates; one augmentation drawn per view. */
  augmentRate: number;
  surrogateEpochs: number;
  surrogateLr: number;
  mlpHidden: number;
  /** Starts of projected-gradient decoding (the best candidates). */
  starts: number;
  gradSteps: number;
  gradLr: number;
  /** Also round the iterates every this many steps (see decodeGradient's roundEvery). */
  gradRoundEvery: number;
  /**
   * Weight of the fixed code in the learned-plus-Hamming loss
   * `α²·Δ_Hamming + (1−α²)·Δ_learned` (see HammingSkipEncoder); 0: that method is not run.
   */
  alpha: number;
  /**
   * Validation mode when > 0: the last `holdout` of the `trainSize` training
   * molecules are held out and evaluated instead of the test molecules
   * (every model trains on the others; the test molecules are not read).
   */
  holdout: number;
}

/** The data set and its fixed split. */
export interface Data {
  set: MoleculeSet;
  train: number[];
  test: number[];
}

let rdkitPromise: ReturnType<typeof initRDKitModule> | null = null;
/** The RDKit module (loaded once per thread). */
export function rdkit(): ReturnType<typeof initRDKitModule> {
  rdkitPromise ??= initRDKitModule();
  return rdkitPromise;
}

/** Reads the SMILES file and splits it (seeded permutation: first `trainSize` train, then test). */
export async function loadData(cfg: Config): Promise<Data> {
  const set = readSmilesFile(await rdkit(), readFileSync(cfg.data, 'utf8'));
  const perm = Array.from(new Rng(cfg.seed).permutation(set.graphs.length));
  const trainEnd = cfg.trainSize - cfg.holdout;
  const train = perm.slice(0, trainEnd);
  const test =
    cfg.holdout > 0
      ? perm.slice(trainEnd, cfg.trainSize).slice(0, cfg.testSize)
      : perm.slice(cfg.trainSize, cfg.trainSize + cfg.testSize);
  return { set, train, test };
}

function inputs(data: Data, cfg: Config) {
  const feat = new SmilesFeaturizer(data.train.map((i) => data.set.smiles[i]!));
  const x = (idx: number[]) =>
    tf.tensor2d(feat.features(idx.map((i) => data.set.smiles[i]!)), [idx.length, feat.size]);
  void cfg;
  return { feat, x };
}

/** The fixed loss's code: one-hot node types (C, N, O, F, absent) and upper-triangle bond types, `9·5 + 36·4 = 189` values, scaled to unit norm. */
export function hammingCodes(graphs: readonly MolGraph[]): Float32Array {
  const { nodes, bonds } = denseGraphs(graphs);
  const N = MAX_ATOMS;
  const dim = N * 5 + ((N * (N - 1)) / 2) * 4;
  const out = new Float32Array(graphs.length * dim);
  const scale = 1 / Math.sqrt(N + (N * (N - 1)) / 2);
  graphs.forEach((_, b) => {
    out.set(
      nodes.subarray(b * N * 5, (b + 1) * N * 5).map((v) => v * scale),
      b * dim,
    );
    let o = b * dim + N * 5;
    for (let i = 0; i < N; i++) {
      for (let j = i + 1; j < N; j++) {
        for (let t = 0; t < 4; t++) out[o++] = bonds[((b * N + i) * N + j) * 4 + t]! * scale;
      }
    }
  });
  return out;
}

/** The graph whose Hamming code is closest to `h`: per block the largest entry (the exact minimizer over the relaxation). */
export function roundHamming(h: Float32Array): MolGraph {
  const N = MAX_ATOMS;
  const type = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    let best = 0;
    for (let c = 1; c < 5; c++) if (h[i * 5 + c]! > h[i * 5 + best]!) best = c;
    type[i] = best;
  }
  const keep: number[] = [];
  for (let i = 0; i < N; i++) if (type[i]! < 4) keep.push(i);
  if (keep.length === 0) keep.push(0);
  const pos = new Int32Array(N).fill(-1);
  keep.forEach((i, k) => {
    pos[i] = k;
  });
  const n = keep.length;
  const bonds = new Uint8Array(n * n);
  let o = N * 5;
  for (let i = 0; i < N; i++) {
    for (let j = i + 1; j < N; j++) {
      let best = 0;
      for (let t = 1; t < 4; t++) if (h[o + t]! > h[o + best]!) best = t;
      o += 4;
      if (pos[i]! >= 0 && pos[j]! >= 0) {
        bonds[pos[i]! * n + pos[j]!] = best;
        bonds[pos[j]! * n + pos[i]!] = best;
      }
    }
  }
  return { n, atoms: Uint8Array.from(keep, (i) => Math.min(3, type[i]!)), bonds };
}

/** Result of one method on the test molecules evaluated. */
export interface MethodResult {
  /** GED per test molecule, candidate decoding. */
  candidates: Float64Array;
  /** GED per test molecule, projected-gradient decoding. */
  gradient: Float64Array;
  /** Test molecules whose projected-gradient output differs from the candidate decoding's (a graph not in the candidate set, or another candidate). */
  descended?: number;
  /** Decoded graphs of the first few test molecules (for the figure). */
  examples: { candidates: MolGraph[]; gradient: MolGraph[] };
}

/** What the learned-loss training hands to the decoding tasks. */
export interface LearnedModel {
  encoderWeights: Float32Array[];
  /** `[test, d]` surrogate predictions of the learned loss. */
  h: Float32Array;
  /** `[test, d]` nearest-neighbour predictions: ψ of the training output whose SMILES features are closest (cosine). */
  hNearest: Float32Array;
  embedLosses: number[];
  surrogateLosses: number[];
  ms: number;
}

/** Trains ψ by contrastive learning, then the surrogate h; also the nearest-neighbour predictor. */
export async function trainLearned(
  cfg: Config,
  log: (s: string) => void = () => {},
): Promise<LearnedModel> {
  const t0 = performance.now();
  const data = await loadData(cfg);
  const rng = new Rng(cfg.seed + 1);
  const trainGraphs = data.train.map((i) => data.set.graphs[i]!);
  const encoder = new GraphEncoder(rng, { hidden: cfg.hidden, dim: cfg.dim, readout: cfg.readout });
  const emb = trainOutputEmbedding(encoder, trainGraphs, {
    augment: (g, r) =>
      augmentGraph(g, r, {
        oneOf: true,
        dropNode: cfg.augmentRate,
        perturbEdge: cfg.augmentRate,
        maskAtom: cfg.augmentRate,
      }),
    epochs: cfg.embedEpochs,
    batchSize: cfg.embedBatch,
    temperature: cfg.temperature,
    learningRate: cfg.embedLr,
    seed: cfg.seed + 2,
    onEpoch: (e, l) => {
      if (e % 10 === 0 || e === cfg.embedEpochs - 1) log(`  ψ epoch ${e}: NT-Xent ${l.toFixed(4)}`);
    },
  });
  const psi = embedOutputs(encoder, trainGraphs);
  const { x } = inputs(data, cfg);
  const xTrain = x(data.train);
  const xTest = x(data.test);
  const mlp = new Mlp(rng, [xTrain.shape[1], cfg.mlpHidden, cfg.mlpHidden, cfg.dim]);
  const fit = fitSurrogate(mlp, xTrain, psi, {
    epochs: cfg.surrogateEpochs,
    learningRate: cfg.surrogateLr,
    seed: cfg.seed + 3,
    onEpoch: (e, l) => {
      if (e % 10 === 0 || e === cfg.surrogateEpochs - 1)
        log(`  h epoch ${e}: ‖h − ψ‖² ${l.toFixed(4)}`);
    },
  });
  const h = mlp.predict(xTest);
  const hNearest = tf.tidy(() => {
    const unit = (t: tf.Tensor2D) => tf.div(t, tf.add(tf.norm(t, 2, 1, true), 1e-12));
    const nn = tf.argMax(tf.matMul(unit(xTest), tf.transpose(unit(xTrain))), 1);
    return tf.gather(psi, nn).dataSync() as Float32Array;
  });
  const out = {
    encoderWeights: encoder.getWeights(),
    h,
    hNearest,
    embedLosses: emb.losses,
    surrogateLosses: fit.losses,
    ms: performance.now() - t0,
  };
  tf.dispose([psi, xTrain, xTest]);
  encoder.dispose();
  mlp.dispose();
  return out;
}

/**
 * Decodes test molecules `[from, to)` of the learned loss from predictions
 * `h` (`[to − from, d]`): over the training outputs, and by projected
 * gradient from the `starts` best of them; returns the GEDs to the truth.
 */
export async function decodeLearned(
  cfg: Config,
  encoderWeights: Float32Array[],
  h: Float32Array,
  from: number,
  to: number,
  examples = 0,
  withHamming?: { alpha: number; h: Float32Array },
): Promise<MethodResult> {
  const data = await loadData(cfg);
  const rng = new Rng(cfg.seed + 1);
  const trainGraphs = data.train.map((i) => data.set.graphs[i]!);
  const graphEncoder = new GraphEncoder(rng, {
    hidden: cfg.hidden,
    dim: cfg.dim,
    readout: cfg.readout,
  });
  graphEncoder.setWeights(encoderWeights);
  const b = to - from;
  const S = cfg.starts;
  // With the fixed code beside ψ: ψ_α = [α φ, √(1−α²) ψ] and h_α = [α h_φ, √(1−α²) h_ψ],
  // so ⟨h_α, ψ_α⟩ = α²⟨h_φ, φ⟩ + (1−α²)⟨h_ψ, ψ⟩ (each h the regression of its own code).
  const alpha = withHamming?.alpha ?? 0;
  const encoder = withHamming ? new HammingSkipEncoder(graphEncoder, alpha) : graphEncoder;
  const dim = withHamming ? HAMMING_SIZE + cfg.dim : cfg.dim;
  const hT = tf.tidy(() => {
    const hPsi = tf.tensor2d(h, [b, cfg.dim]);
    if (!withHamming) return hPsi;
    return tf.concat(
      [
        tf.mul(tf.tensor2d(withHamming.h, [b, HAMMING_SIZE]), alpha),
        tf.mul(hPsi, Math.sqrt(1 - alpha * alpha)),
      ],
      1,
    );
  });
  const psi = embedOutputs(encoder, trainGraphs);
  const top = decodeCandidates(hT, psi, { k: S });
  // The fixed loss's own decoding (per-entry argmax of h_φ) is the first start
  // when the fixed code is part of the loss; the best candidates are the others.
  const startGraph = (i: number, r: number) =>
    withHamming && r === 0
      ? roundHamming(withHamming.h.subarray(i * HAMMING_SIZE, (i + 1) * HAMMING_SIZE))
      : trainGraphs[top.indices[i * S + (withHamming ? r - 1 : r)]!]!;
  const truth = data.test.slice(from, to).map((i) => data.set.graphs[i]!);
  const candidates = new Float64Array(b);
  const gradient = new Float64Array(b);
  const ex: MethodResult['examples'] = { candidates: [], gradient: [] };
  for (let i = 0; i < b; i++) {
    const g = trainGraphs[top.indices[i * S]!]!;
    candidates[i] = graphEditDistance(g, truth[i]!);
    if (i < examples) ex.candidates.push(g);
  }
  const chunk = 64;
  let descended = 0;
  for (let s = 0; s < b; s += chunk) {
    const e = Math.min(b, s + chunk);
    const starts = Array.from({ length: (e - s) * S }, (_, r) =>
      startGraph(s + Math.floor(r / S), r % S),
    );
    const problem = graphRelaxation(encoder, starts);
    const hs = tf.slice(hT, [s, 0], [e - s, dim]);
    const r = decodeGradient(hs, problem, {
      steps: cfg.gradSteps,
      learningRate: cfg.gradLr,
      roundEvery: cfg.gradRoundEvery,
    });
    problem.dispose();
    hs.dispose();
    r.outputs.forEach((g, k) => {
      gradient[s + k] = graphEditDistance(g, truth[s + k]!);
      if (graphEditDistance(g, trainGraphs[top.indices[(s + k) * S]!]!) > 0) descended++;
      if (s + k < examples) ex.gradient.push(g);
    });
  }
  tf.dispose([psi, hT]);
  graphEncoder.dispose();
  return { candidates, gradient, descended, examples: ex };
}

/** The fixed loss (Hamming on padded node types and adjacency): surrogate regression onto its code, both decodings. */
export async function runFixed(
  cfg: Config,
  examples = 0,
  log: (s: string) => void = () => {},
): Promise<MethodResult & { ms: number; h: Float32Array }> {
  const t0 = performance.now();
  const data = await loadData(cfg);
  const rng = new Rng(cfg.seed + 4);
  const trainGraphs = data.train.map((i) => data.set.graphs[i]!);
  const codes = hammingCodes(trainGraphs);
  const dim = codes.length / trainGraphs.length;
  const target = tf.tensor2d(codes, [trainGraphs.length, dim]);
  const { x } = inputs(data, cfg);
  const xTrain = x(data.train);
  const xTest = x(data.test);
  const mlp = new Mlp(rng, [xTrain.shape[1], cfg.mlpHidden, cfg.mlpHidden, dim]);
  fitSurrogate(mlp, xTrain, target, {
    epochs: cfg.surrogateEpochs,
    learningRate: cfg.surrogateLr,
    seed: cfg.seed + 5,
    onEpoch: (e, l) => {
      if (e % 10 === 0 || e === cfg.surrogateEpochs - 1)
        log(`  fixed h epoch ${e}: ‖h − φ‖² ${l.toFixed(4)}`);
    },
  });
  const ms = performance.now() - t0;
  const h = mlp.predict(xTest);
  const hT = tf.tensor2d(h, [data.test.length, dim]);
  const top = decodeCandidates(hT, target);
  const truth = data.test.map((i) => data.set.graphs[i]!);
  const candidates = new Float64Array(truth.length);
  const gradient = new Float64Array(truth.length);
  const ex: MethodResult['examples'] = { candidates: [], gradient: [] };
  truth.forEach((t, i) => {
    const c = trainGraphs[top.indices[i]!]!;
    const g = roundHamming(h.subarray(i * dim, (i + 1) * dim));
    candidates[i] = graphEditDistance(c, t);
    gradient[i] = graphEditDistance(g, t);
    if (i < examples) {
      ex.candidates.push(c);
      ex.gradient.push(g);
    }
  });
  tf.dispose([target, xTrain, xTest, hT]);
  mlp.dispose();
  return { candidates, gradient, examples: ex, ms, h };
}

/** Why one loss decodes better than another: measured on the evaluated (test) molecules. */
export interface Diagnostics {
  /** `1 − R²` of each regression on the test molecules: `Σ‖h(x) − t‖² / Σ‖t − t̄‖²` (learned ψ; fixed code φ). */
  regressionError: { learned: number; fixed: number };
  /** Pearson and Spearman correlations of the loss with the GED over random pairs of test graphs. */
  correlation: {
    pairs: number;
    learnedPearson: number;
    learnedSpearman: number;
    fixedPearson: number;
    fixedSpearman: number;
  };
  /** Mean GED from each test graph to the training graph nearest to it under each loss (the best a perfect h could do with candidates). */
  nearestGed: { learned: number; fixed: number };
}

/** {@link Diagnostics} of a trained ψ and both regressions (`h` `[test, d]`, `hFixed` `[test, 189]`). */
export async function diagnose(
  cfg: Config,
  encoderWeights: Float32Array[],
  h: Float32Array,
  hFixed: Float32Array,
  pairs = 2000,
): Promise<Diagnostics> {
  const data = await loadData(cfg);
  const rng = new Rng(cfg.seed + 6);
  const trainGraphs = data.train.map((i) => data.set.graphs[i]!);
  const testGraphs = data.test.map((i) => data.set.graphs[i]!);
  const encoder = new GraphEncoder(new Rng(cfg.seed + 1), {
    hidden: cfg.hidden,
    dim: cfg.dim,
    readout: cfg.readout,
  });
  encoder.setWeights(encoderWeights);
  const b = testGraphs.length;
  const psiTest = embedOutputs(encoder, testGraphs);
  const psiTrain = embedOutputs(encoder, trainGraphs);
  const phiTest = tf.tensor2d(hammingCodes(testGraphs), [b, HAMMING_SIZE]);
  const phiTrain = tf.tensor2d(hammingCodes(trainGraphs), [trainGraphs.length, HAMMING_SIZE]);
  const rel = (pred: Float32Array, t: tf.Tensor2D) =>
    tf.tidy(() => {
      const p = tf.tensor2d(pred, t.shape);
      const err = tf.sum(tf.square(tf.sub(p, t)));
      const spread = tf.sum(tf.square(tf.sub(t, tf.mean(t, 0, true))));
      return err.dataSync()[0]! / spread.dataSync()[0]!;
    });
  const regressionError = { learned: rel(h, psiTest), fixed: rel(hFixed, phiTest) };
  const psiT = psiTest.arraySync();
  const phiT = phiTest.arraySync();
  const dot = (u: number[], v: number[]) => u.reduce((s, x, k) => s + x * v[k]!, 0);
  const dL: number[] = [];
  const dF: number[] = [];
  const ged: number[] = [];
  for (let p = 0; p < pairs; p++) {
    const i = rng.int(b);
    let j = rng.int(b - 1);
    if (j >= i) j++;
    dL.push(2 - 2 * dot(psiT[i]!, psiT[j]!));
    dF.push(2 - 2 * dot(phiT[i]!, phiT[j]!));
    ged.push(graphEditDistance(testGraphs[i]!, testGraphs[j]!));
  }
  const nearest = (q: tf.Tensor2D, c: tf.Tensor2D) => {
    const idx = tf.tidy(() => tf.argMax(tf.matMul(q, tf.transpose(c)), 1).dataSync());
    return testGraphs.reduce((s, t, i) => s + graphEditDistance(trainGraphs[idx[i]!]!, t), 0) / b;
  };
  const out: Diagnostics = {
    regressionError,
    correlation: {
      pairs,
      learnedPearson: pearson(dL, ged),
      learnedSpearman: pearson(ranks(dL), ranks(ged)),
      fixedPearson: pearson(dF, ged),
      fixedSpearman: pearson(ranks(dF), ranks(ged)),
    },
    nearestGed: { learned: nearest(psiTest, psiTrain), fixed: nearest(phiTest, phiTrain) },
  };
  tf.dispose([psiTest, psiTrain, phiTest, phiTrain]);
  encoder.dispose();
  return out;
}

function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let k = 0; k < n; k++) {
    sab += (a[k]! - ma) * (b[k]! - mb);
    saa += (a[k]! - ma) ** 2;
    sbb += (b[k]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Ranks with ties averaged (for Spearman's correlation). */
function ranks(a: readonly number[]): number[] {
  const order = a.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  const r = new Array<number>(a.length);
  for (let s = 0; s < order.length; ) {
    let e = s;
    while (e + 1 < order.length && order[e + 1]![0] === order[s]![0]) e++;
    for (let k = s; k <= e; k++) r[order[k]![1]] = (s + e) / 2;
    s = e + 1;
  }
  return r;
}
