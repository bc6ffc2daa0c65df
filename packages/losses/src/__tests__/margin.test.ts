import { Rng, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import {
  describeBackends,
  expectNoLeaks,
  expectThrow,
  maxRelativeError,
  numericGradient,
} from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  initMarginState,
  type LargeMarginOptions,
  largeMarginLoss,
  largeMarginTerms,
  type MarginState,
  marginMetrics,
  updateMarginState,
} from '../index.js';
import { DEFAULTS, type RefOptions, refMargin } from './margin-reference.js';

const N = 12;
const D = 3;
const K = 4;

interface Case {
  f: Float32Array;
  w: Float32Array;
  b: Float32Array;
  labels: Int32Array;
  state: MarginState;
}

/** Random features, classifier and labels (class 3 absent, sample 5 unlabelled); classes 0, 1 seen before. */
function randomCase(seed: number, labels?: number[]): Case {
  const rng = new Rng(seed);
  const lab = Int32Array.from(
    labels ?? Array.from({ length: N }, (_, i) => (i === 5 ? -1 : i % 3)),
  );
  const state = initMarginState(K, D, { momentum: 0.7 });
  state.centroids = Array.from(rng.normalArray(K * D, 0, 1));
  state.seen = [2, 1, 0, 0];
  return {
    f: Float32Array.from(rng.normalArray(lab.length * D, 0, 1.5)),
    w: Float32Array.from(rng.normalArray(D * K, 0, 1)),
    b: Float32Array.from(rng.normalArray(K, 0, 0.5)),
    labels: lab,
    state,
  };
}

const logitsOf = (f: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, n: number) => {
  const z = new Float64Array(n * K);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < K; c++) {
      let s = b[c]!;
      for (let t = 0; t < D; t++) s += f[i * D + t]! * w[t * K + c]!;
      z[i * K + c] = s;
    }
  return z;
};

function ref(x: Case, o: Partial<RefOptions> = {}) {
  const n = x.labels.length;
  return refMargin(x.f, logitsOf(x.f, x.w, x.b, n), x.labels, x.w, x.b, x.state, n, D, K, {
    ...DEFAULTS,
    ...o,
  });
}

type TermName = 'compactness' | 'margin' | 'regularizer' | 'total' | 'loss';

/** tfjs value and gradient (features, weight, bias concatenated) of one term. */
function tfTerm(x: Case, term: TermName, options: LargeMarginOptions) {
  const n = x.labels.length;
  return tf.tidy(() => {
    const f = tf.tensor2d(x.f, [n, D]);
    const w = tf.tensor2d(x.w, [D, K]);
    const b = tf.tensor1d(x.b);
    const y = tf.tensor1d(x.labels, 'int32');
    const fun = (ft: tf.Tensor, wt: tf.Tensor, bt: tf.Tensor): tf.Scalar => {
      if (term === 'loss') {
        const logits = tf.add(tf.matMul(ft as tf.Tensor2D, wt as tf.Tensor2D), bt);
        return largeMarginLoss(ft, logits, y, { weight: wt, bias: bt }, x.state, options);
      }
      const t = largeMarginTerms(ft, y, { weight: wt, bias: bt }, x.state, options);
      // compactness and the regulariser do not read the classifier: connect it for tf.grads
      return tf.add(t[term], tf.mul(tf.add(tf.sum(wt), tf.sum(bt)), 0)) as tf.Scalar;
    };
    const value = fun(f, w, b).dataSync()[0]!;
    const grads = tf.grads((a, c, e) => fun(a!, c!, e!))([f, w, b]);
    const g = new Float32Array(n * D + D * K + K);
    g.set(grads[0]!.dataSync(), 0);
    g.set(grads[1]!.dataSync(), n * D);
    g.set(grads[2]!.dataSync(), n * D + D * K);
    return { value, grad: g };
  });
}

function numericTerm(x: Case, term: TermName, o: Partial<RefOptions>): Float64Array {
  const n = x.labels.length;
  const all = new Float64Array(n * D + D * K + K);
  all.set(x.f, 0);
  all.set(x.w, n * D);
  all.set(x.b, n * D + D * K);
  return numericGradient((v) => {
    const f = v.subarray(0, n * D);
    const w = v.subarray(n * D, n * D + D * K);
    const b = v.subarray(n * D + D * K);
    const r = refMargin(f, logitsOf(f, w, b, n), x.labels, w, b, x.state, n, D, K, {
      ...DEFAULTS,
      ...o,
    });
    return r[term === 'loss' ? 'loss' : term];
  }, all);
}

describeBackends('largeMarginLoss', () => {
  const settings: LargeMarginOptions[] = [
    {},
    { aggregation: 'mean', deltaDist: 3, deltaVar: 0.2 },
    { lambda: 0.5, alpha: 2, beta: 0.7, gamma: 0.3, deltaDist: 4, deltaVar: 0.1 },
  ];

  it('matches the float64 reference, term by term, for max and mean aggregation', () => {
    for (const [s, o] of settings.entries()) {
      const x = randomCase(10 + s);
      const r = ref(x, o);
      for (const term of ['compactness', 'margin', 'regularizer', 'total', 'loss'] as const) {
        const { value } = tfTerm(x, term, o);
        expect(Math.abs(value - r[term]) / Math.max(1, Math.abs(r[term]))).toBeLessThan(1e-5);
      }
      expect(r.margin).toBeGreaterThan(0);
      expect(r.compactness).toBeGreaterThan(0);
    }
  });

  it('has the finite-difference gradient for every term (features, weight, bias)', () => {
    for (const [s, o] of settings.entries()) {
      const x = randomCase(20 + s);
      for (const term of ['compactness', 'margin', 'regularizer', 'loss'] as const) {
        const { grad } = tfTerm(x, term, o);
        const num = numericTerm(x, term, o);
        expect(maxRelativeError(grad, num, 1e-2), `${term} ${JSON.stringify(o)}`).toBeLessThan(
          2e-3,
        );
      }
    }
  });

  it('max and mean aggregation differ exactly where they should', () => {
    // one class present, one sample: the margin is the hinge of the boundaries
    const x = randomCase(30, [1]);
    const o = { deltaDist: 50 };
    const rMax = ref(x, { ...o, aggregation: 'max' });
    const rMean = ref(x, { ...o, aggregation: 'mean' });
    expect(rMax.margin).toBeGreaterThan(rMean.margin);
    // every hinge is active: the mean is δ minus the mean distance, the max δ minus the smallest
    const gMax = tfTerm(x, 'margin', { ...o, aggregation: 'max' }).grad;
    const gMean = tfTerm(x, 'margin', { ...o, aggregation: 'mean' }).grad;
    const biasMax = Array.from(gMax.subarray(D + D * K));
    const biasMean = Array.from(gMean.subarray(D + D * K));
    // max: only the class and its closest rival move; mean: the class and all K−1 rivals
    expect(biasMax.filter((v) => v !== 0).length).toBe(2);
    expect(biasMean.filter((v) => v !== 0).length).toBe(K);
    expect(biasMax[1]).toBeLessThan(0);
    // compactness and the regulariser do not depend on the aggregation
    expect(rMax.compactness).toBe(rMean.compactness);
    const tMax = tfTerm(x, 'compactness', { ...o, aggregation: 'max' }).value;
    const tMean = tfTerm(x, 'compactness', { ...o, aggregation: 'mean' }).value;
    expect(tMax).toBe(tMean);
    // no active hinge: both zero
    const far = { deltaDist: 0 };
    const y = randomCase(31, [0, 0, 0]);
    y.f = Float32Array.from({ length: 3 * D }, () => 0);
    y.w = Float32Array.from({ length: D * K }, (_, i) => (i % K === 0 ? 1 : 0) + 0.1 * i);
    y.b = Float32Array.from([10, 0, 0, 0]);
    expect(tfTerm(y, 'margin', { ...far, aggregation: 'max' }).value).toBe(0);
    expect(tfTerm(y, 'margin', { ...far, aggregation: 'mean' }).value).toBe(0);
  });

  it('handles a single-class batch and a class with one sample (finite gradients)', () => {
    for (const labels of [[2, 2, 2, 2, 2], [3]]) {
      const x = randomCase(40, labels);
      const o = { deltaVar: 0.1, deltaDist: 3 };
      const r = ref(x, o);
      for (const term of ['compactness', 'margin', 'regularizer', 'loss'] as const) {
        const { value, grad } = tfTerm(x, term, o);
        expect(Math.abs(value - r[term]) / Math.max(1, Math.abs(r[term]))).toBeLessThan(1e-5);
        expect(grad.every(Number.isFinite)).toBe(true);
      }
      // a class with one sample that the state has not seen: the sample is its own centroid
      if (labels.length === 1) expect(r.compactness).toBe(0);
    }
  });

  it('gives 0 with zero gradients when no sample is labelled', () => {
    const x = randomCase(50, [-1, -1, -1]);
    const { value, grad } = tfTerm(x, 'loss', {});
    expect(value).toBe(0);
    expect(grad.every((v) => v === 0)).toBe(true);
  });

  it('names bad input', () => {
    const x = randomCase(60);
    const f = tf.tensor2d(x.f, [N, D]);
    const w = tf.tensor2d(x.w, [D, K]);
    const b = tf.tensor1d(x.b);
    const z = tf.zeros([N, K]);
    const y = tf.tensor1d(x.labels, 'int32');
    const p = { weight: w, bias: b };
    const bad = Int32Array.from(x.labels);
    bad[3] = 12;
    const yBad = tf.tensor1d(bad, 'int32');
    expectThrow(
      () => largeMarginLoss(f, z, yBad, p, x.state),
      SegRangeError,
      'largeMarginLoss: labels[3] is 12, expected -1 (unlabelled) or a label in [0, 3]',
    );
    const f4 = tf.zeros([N, 4]);
    expectThrow(
      () => largeMarginLoss(f4, z, y, p, x.state),
      SegShapeError,
      'largeMarginLoss: params.weight has shape [3,4], expected [4,K] (features have size D = 4)',
    );
    const fNaN = Float32Array.from(x.f);
    fNaN[7] = Number.NaN;
    const fn = tf.tensor2d(fNaN, [N, D]);
    expectThrow(
      () => largeMarginTerms(fn, y, p, x.state),
      SegValueError,
      'largeMarginTerms: features[7] is NaN, expected a finite number',
    );
    expectThrow(
      () => updateMarginState(x.state, fn, y),
      SegValueError,
      'updateMarginState: features[7] is NaN, expected a finite number',
    );
    expectThrow(
      () => largeMarginLoss(f, tf.zeros([N, 3]), y, p, x.state),
      SegShapeError,
      'largeMarginLoss: logits has shape [12,3], expected [12,4] (N from features, K from params.weight)',
    );
    expectThrow(
      () => largeMarginLoss(f, z, y, p, initMarginState(3, D)),
      SegShapeError,
      'largeMarginLoss: state has 3 classes of dim 3, expected 4 classes of dim 3',
    );
    expectThrow(
      () => largeMarginLoss(f, z, y, p, x.state, { aggregation: 'min' as 'max' }),
      SegValueError,
      `largeMarginLoss: options.aggregation is "min", expected 'max' or 'mean'`,
    );
    expectThrow(
      () => largeMarginTerms(f, tf.tensor1d([0, 1], 'int32'), p, x.state),
      SegShapeError,
      'largeMarginTerms: labels has shape [2], expected [12]',
    );
    expectThrow(
      () => marginMetrics(f, yBad, p),
      SegRangeError,
      'marginMetrics: labels[3] is 12, expected -1 (unlabelled) or a label in [0, 3]',
    );
    expectThrow(
      () => initMarginState(10, 30, { momentum: 1 }),
      SegValueError,
      'initMarginState: options.momentum is 1, expected a number in [0, 1)',
    );
    tf.dispose([f, w, b, z, y, yBad, f4, fn]);
  });

  it('does not leak, with and without gradients', async () => {
    const x = randomCase(70);
    const f = tf.tensor2d(x.f, [N, D]);
    const w = tf.tensor2d(x.w, [D, K]);
    const b = tf.tensor1d(x.b);
    const y = tf.tensor1d(x.labels, 'int32');
    const z = tf.add(tf.matMul(f, w), b);
    const p = { weight: w, bias: b };
    await expectNoLeaks(() => largeMarginLoss(f, z, y, p, x.state));
    await expectNoLeaks(() => {
      const t = largeMarginTerms(f, y, p, x.state, { aggregation: 'mean' });
      return [t.compactness, t.margin, t.regularizer, t.total];
    });
    await expectNoLeaks(() => updateMarginState(x.state, f, y));
    await expectNoLeaks(() => marginMetrics(f, y, p));
    await expectNoLeaks(() =>
      tf.grads((a, c, e) => {
        const logits = tf.add(tf.matMul(a as tf.Tensor2D, c as tf.Tensor2D), e!);
        return largeMarginLoss(a!, logits, y, { weight: c!, bias: e! }, x.state);
      })([f, w, b]),
    );
    tf.dispose([f, w, b, y, z]);
  });
});

describeBackends('updateMarginState', () => {
  it('starts at the batch means, then follows the momentum; absent classes keep their centroid', () => {
    const rng = new Rng(80);
    let state = initMarginState(K, D, { momentum: 0.9 });
    expect(state.seen).toEqual([0, 0, 0, 0]);
    const means = (f: Float32Array, lab: number[], c: number) => {
      const m = [0, 0, 0];
      const idx = lab.flatMap((v, i) => (v === c ? [i] : []));
      for (const i of idx) for (let j = 0; j < D; j++) m[j]! += f[i * D + j]!;
      return m.map((v) => v / idx.length);
    };
    const lab1 = [0, 0, 1, -1, 1, 1];
    const f1 = Float32Array.from(rng.normalArray(lab1.length * D, 0, 1));
    const t1 = tf.tensor2d(f1, [lab1.length, D]);
    const y1 = tf.tensor1d(lab1, 'int32');
    state = updateMarginState(state, t1, y1);
    expect(state.seen).toEqual([1, 1, 0, 0]);
    for (const c of [0, 1]) {
      const m = means(f1, lab1, c);
      for (let j = 0; j < D; j++) expect(state.centroids[c * D + j]).toBeCloseTo(m[j]!, 5);
    }
    expect(state.centroids.slice(2 * D)).toEqual([0, 0, 0, 0, 0, 0]);
    const before = state;
    const lab2 = [1, 2, 2];
    const f2 = Float32Array.from(rng.normalArray(lab2.length * D, 0, 1));
    const t2 = tf.tensor2d(f2, [lab2.length, D]);
    const y2 = tf.tensor1d(lab2, 'int32');
    state = updateMarginState(state, t2, y2);
    expect(state.seen).toEqual([1, 2, 1, 0]);
    // class 0 is absent: unchanged; class 1: momentum; class 2: first batch mean
    expect(state.centroids.slice(0, D)).toEqual(before.centroids.slice(0, D));
    const m1 = means(f2, lab2, 1);
    const m2 = means(f2, lab2, 2);
    for (let j = 0; j < D; j++) {
      expect(state.centroids[D + j]).toBeCloseTo(0.1 * m1[j]! + 0.9 * before.centroids[D + j]!, 5);
      expect(state.centroids[2 * D + j]).toBeCloseTo(m2[j]!, 5);
    }
    // the previous state is not modified, and the state survives JSON
    expect(before.seen).toEqual([1, 1, 0, 0]);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    tf.dispose([t1, y1, t2, y2]);
  });

  it('the loss uses the centroid the update will store', () => {
    // compactness with μ: the centroid is (1−μ)·batch mean + μ·old; check through a class with one sample
    const x = randomCase(90, [0, 1, 1]);
    const r = ref(x, { deltaVar: 0 });
    const f = tf.tensor2d(x.f, [3, D]);
    const y = tf.tensor1d(x.labels, 'int32');
    const next = updateMarginState(x.state, f, y);
    // class 0 has one sample: its compactness is its distance to the stored centroid, squared
    let s = 0;
    for (let j = 0; j < D; j++) s += (x.f[j]! - next.centroids[j]!) ** 2;
    const r0 = refMargin(x.f, new Float64Array(3 * K), [0, -1, -1], x.w, x.b, x.state, 3, D, K, {
      ...DEFAULTS,
      deltaVar: 0,
    });
    expect(r0.compactness).toBeCloseTo(s, 5);
    expect(r.compactness).toBeGreaterThan(0);
    tf.dispose([f, y]);
  });
});

describeBackends('marginMetrics', () => {
  it('measures spread and signed distances to the boundaries', () => {
    // two classes split by the plane x = 0: the distance of (x, y) is x for class 0, −x for class 1
    const w = tf.tensor2d([1, -1, 0, 0], [2, 2]);
    const b = tf.tensor1d([0, 0]);
    const f = tf.tensor2d([2, 1, 2, -1, -3, 0, -1, 0, 0.5, 5], [5, 2]);
    const y = tf.tensor1d([0, 0, 1, 1, 1], 'int32');
    const m = marginMetrics(f, y, { weight: w, bias: b });
    expect(m.intraClassPerClass[0]).toBeCloseTo(1, 10);
    // class 1: mean (−7/6, 5/3)
    const c1 = [-3.5 / 3, 5 / 3];
    const pts = [
      [-3, 0],
      [-1, 0],
      [0.5, 5],
    ];
    const spread = pts.reduce((s, p) => s + Math.hypot(p[0]! - c1[0]!, p[1]! - c1[1]!), 0) / 3;
    expect(m.intraClassPerClass[1]).toBeCloseTo(spread, 6);
    expect(m.intraClass).toBeCloseTo((1 + spread) / 2, 6);
    expect(m.centroidMargin[0]).toBeCloseTo(2, 6);
    expect(m.centroidMargin[1]).toBeCloseTo(3.5 / 3, 6);
    expect(m.meanCentroidMargin).toBeCloseTo((2 + 3.5 / 3) / 2, 6);
    expect(Array.from(m.sampleMargins)).toEqual([2, 2, 3, 1, -0.5]);
    tf.dispose([w, b, f, y]);
  });
});
