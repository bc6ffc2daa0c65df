import { Rng, SegRangeError, SegShapeError, SegValueError } from '@seg/tensor';
import {
  describeBackends,
  expectNoLeaks,
  expectThrow,
  maxRelativeError,
  numericGradient,
} from '@seg/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  decodeCandidates,
  decodeGradient,
  embedOutputs,
  fitSurrogate,
  learnedLoss,
  ntXentLoss,
  projectSimplex,
  type StructuredEncoder,
  trainOutputEmbedding,
  unitRows,
} from '../index.js';

/** Float64 NT-Xent of `[z1; z2]` (b rows each, d columns), row-major. */
function refNtXent(z: Float64Array, b: number, d: number, tau: number): number {
  const u = new Float64Array(z.length);
  for (let i = 0; i < 2 * b; i++) {
    let n = 1e-12;
    for (let c = 0; c < d; c++) n += z[i * d + c]! ** 2;
    for (let c = 0; c < d; c++) u[i * d + c] = z[i * d + c]! / Math.sqrt(n);
  }
  const sim = (i: number, j: number) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += u[i * d + c]! * u[j * d + c]!;
    return s / tau;
  };
  let total = 0;
  for (let i = 0; i < 2 * b; i++) {
    let lse = 0;
    for (let j = 0; j < 2 * b; j++) if (j !== i) lse += Math.exp(sim(i, j));
    total += Math.log(lse) - sim(i, i < b ? i + b : i - b);
  }
  return total / (2 * b);
}

/** Float64 projection of `v` onto the simplex by bisection on the threshold. */
function refSimplex(v: number[]): number[] {
  let lo = Math.min(...v) - 1;
  let hi = Math.max(...v);
  for (let it = 0; it < 200; it++) {
    const mid = (lo + hi) / 2;
    const s = v.reduce((a, x) => a + Math.max(0, x - mid), 0);
    if (s > 1) lo = mid;
    else hi = mid;
  }
  return v.map((x) => Math.max(0, x - (lo + hi) / 2));
}

/** A linear encoder of plain vectors. */
function linearEncoder(
  rng: Rng,
  inDim: number,
  outDim: number,
): StructuredEncoder<readonly number[][]> & { w: tf.Variable } {
  const w = tf.variable(tf.tensor2d(rng.normalArray(inDim * outDim, 1, 0.1), [inDim, outDim]));
  return {
    w,
    variables: [w],
    apply: (ys) => tf.tidy(() => tf.matMul(tf.tensor2d(ys as number[][], [ys.length, inDim]), w)),
  };
}

describeBackends('ntXentLoss', () => {
  it('matches the float64 reference in value and gradient', () => {
    const rng = new Rng(1);
    for (const [b, d, tau] of [
      [2, 3, 0.5],
      [4, 5, 0.2],
    ] as const) {
      const z = Float64Array.from(rng.normalArray(2 * b * d));
      const z1 = tf.tensor2d(Float32Array.from(z.subarray(0, b * d)), [b, d]);
      const z2 = tf.tensor2d(Float32Array.from(z.subarray(b * d)), [b, d]);
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor, c: tf.Tensor) =>
        ntXentLoss(a, c, { temperature: tau }),
      )([z1, z2]);
      expect(value.dataSync()[0]!).toBeCloseTo(refNtXent(z, b, d, tau), 4);
      const num = numericGradient((x) => refNtXent(x, b, d, tau), z);
      const g = new Float32Array([...grads[0]!.dataSync(), ...grads[1]!.dataSync()]);
      expect(maxRelativeError(g, num, 1e-2)).toBeLessThan(2e-3);
      tf.dispose([z1, z2, value, ...grads]);
    }
  });

  it('is small when the views agree and the items differ', () => {
    const z = tf.eye(4);
    const same = ntXentLoss(z, z, { temperature: 0.1 });
    const swapped = ntXentLoss(z, tf.reverse(z, 0), { temperature: 0.1 });
    expect(same.dataSync()[0]!).toBeLessThan(0.01);
    expect(swapped.dataSync()[0]!).toBeGreaterThan(5);
    tf.dispose([z, same, swapped]);
  });

  it('rejects bad input with named errors and does not leak', async () => {
    const a = tf.zeros([3, 2]);
    const b = tf.zeros([3, 4]);
    expectThrow(
      () => ntXentLoss(a, b),
      SegShapeError,
      'ntXentLoss: z2 has shape [3,4], expected [3,2] like z1',
    );
    expectThrow(
      () => ntXentLoss(tf.zeros([1, 2]), tf.zeros([1, 2])),
      SegShapeError,
      'ntXentLoss: z1 has 1 rows, expected at least 2',
    );
    expectThrow(
      () => ntXentLoss(a, a, { temperature: 0 }),
      SegValueError,
      'ntXentLoss: options.temperature is 0, expected a finite number > 0',
    );
    expectThrow(
      () => ntXentLoss(tf.zeros([3]), a),
      SegShapeError,
      'ntXentLoss: z1 has shape [3], expected [n,d]',
    );
    await expectNoLeaks(() => tf.grads((x: tf.Tensor) => ntXentLoss(x, x))([a]));
    tf.dispose([a, b]);
  });
});

describeBackends('learnedLoss and unitRows', () => {
  it('Δ = ‖ψ − ψ′‖² on unit rows, in [0, 4]', async () => {
    const rng = new Rng(2);
    const a = unitRows(tf.tensor2d(rng.normalArray(12), [3, 4]));
    const b = unitRows(tf.tensor2d(rng.normalArray(8), [2, 4]));
    const delta = learnedLoss(a, b).arraySync();
    const av = a.arraySync();
    const bv = b.arraySync();
    for (let i = 0; i < 3; i++) {
      expect(av[i]!.reduce((s, x) => s + x * x, 0)).toBeCloseTo(1, 5);
      for (let j = 0; j < 2; j++) {
        const dist = av[i]!.reduce((s, x, c) => s + (x - bv[j]![c]!) ** 2, 0);
        expect(delta[i]![j]!).toBeCloseTo(dist, 5);
      }
    }
    await expectNoLeaks(() => learnedLoss(a, b));
    await expectNoLeaks(() => unitRows(a));
    expectThrow(
      () => learnedLoss(a, tf.zeros([2, 3])),
      SegShapeError,
      'learnedLoss: psiB has shape [2,3], expected [n,4]',
    );
    tf.dispose([a, b]);
  });
});

describeBackends('projectSimplex', () => {
  it('is the Euclidean projection (float64 bisection reference), on the simplex, idempotent', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 4, maxLength: 4 }),
          { minLength: 1, maxLength: 5 },
        ),
        (rows) => {
          const x = tf.tensor2d(rows.map((r) => r.map((v) => Math.fround(v))));
          const p = projectSimplex(x);
          const pp = projectSimplex(p);
          const pv = p.arraySync() as number[][];
          rows.forEach((r, i) => {
            const ref = refSimplex(r.map((v) => Math.fround(v)));
            for (let c = 0; c < 4; c++) expect(Math.abs(pv[i]![c]! - ref[c]!)).toBeLessThan(1e-5);
            expect(pv[i]!.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
          });
          expect(maxRelativeError(pp.dataSync(), p.dataSync(), 1)).toBeLessThan(1e-5);
          tf.dispose([x, p, pp]);
        },
      ),
      { numRuns: 30, seed: 7 },
    );
  });

  it('works on higher ranks, does not leak, rejects int tensors', async () => {
    const x = tf.tensor3d([0.9, 0.6, -1, 2, 0, 0], [2, 1, 3]);
    expect(Array.from(projectSimplex(x).dataSync()).map((v) => +v.toFixed(5))).toEqual([
      0.65, 0.35, 0, 1, 0, 0,
    ]);
    await expectNoLeaks(() => projectSimplex(x));
    expectThrow(
      () => projectSimplex(tf.tensor1d([1, 2], 'int32')),
      SegShapeError,
      'projectSimplex: x has shape [2] and dtype int32, expected float32 with a last axis ≥ 1',
    );
    x.dispose();
  });
});

describeBackends('decodeCandidates', () => {
  it('returns the k best candidates of brute force (ties: smaller index)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 1000 }),
        (b, m, seed) => {
          const rng = new Rng(seed);
          const d = 3;
          const k = 1 + (seed % m);
          const h = tf.tensor2d(rng.normalArray(b * d), [b, d]);
          // Candidates on a coarse grid, so that ties happen.
          const cand = tf.tensor2d(
            Float32Array.from({ length: m * d }, () => rng.int(3) - 1),
            [m, d],
          );
          const { indices, losses } = decodeCandidates(h, cand, { k, chunk: 2 });
          const hv = h.arraySync();
          const cv = cand.arraySync();
          for (let i = 0; i < b; i++) {
            const score = cv.map((c, j) => ({
              j,
              l: 2 - 2 * c.reduce((s, x, t) => s + x * hv[i]![t]!, 0),
            }));
            score.sort((p, q) => p.l - q.l || p.j - q.j);
            for (let r = 0; r < k; r++) {
              expect(losses[i * k + r]!).toBeCloseTo(score[r]!.l, 4);
              // An index may differ only between equal scores.
              expect(score.find((s) => s.j === indices[i * k + r])!.l).toBeCloseTo(score[r]!.l, 4);
            }
          }
          tf.dispose([h, cand]);
        },
      ),
      { numRuns: 25, seed: 3 },
    );
  });

  it('does not leak; rejects k beyond the candidates', async () => {
    const h = tf.ones([2, 3]);
    const c = tf.eye(3);
    await expectNoLeaks(() => decodeCandidates(h, c, { k: 3 }));
    expectThrow(
      () => decodeCandidates(h, c, { k: 4 }),
      SegRangeError,
      'decodeCandidates: options.k is 4, expected an integer in [1, 3] (the candidates)',
    );
    expectThrow(
      () => decodeCandidates(h, tf.eye(2)),
      SegShapeError,
      'decodeCandidates: candidates has shape [2,2], expected [n,3]',
    );
    tf.dispose([h, c]);
  });
});

/** Outputs are one-hot vectors of K classes, relaxed to the simplex; ψ is a fixed linear map. */
function simplexProblem(w: tf.Tensor2D, starts: tf.Tensor) {
  const k = w.shape[0];
  return {
    starts: [starts],
    embed: (z: readonly tf.Tensor[]) => tf.matMul(z[0] as tf.Tensor2D, w) as tf.Tensor2D,
    project: (z: readonly tf.Tensor[]) => [projectSimplex(z[0]!)],
    round: (z: readonly tf.Tensor[]) => Array.from(tf.tidy(() => tf.argMax(z[0]!, 1).dataSync())),
    embedOutputs: (ys: readonly number[]) =>
      tf.tidy(
        () => tf.matMul(tf.oneHot(tf.tensor1d(ys as number[], 'int32'), k), w) as tf.Tensor2D,
      ),
  };
}

describeBackends('decodeGradient', () => {
  it('recovers the output whose embedding is the target, and never does worse than its rounded starts', async () => {
    const rng = new Rng(4);
    const k = 6;
    const d = 8;
    const b = 5;
    const s = 3;
    const w = tf.tensor2d(rng.normalArray(k * d), [k, d]);
    const truth = Array.from({ length: b }, () => rng.int(k));
    const psi = tf.tidy(() => unitRows(tf.matMul(tf.oneHot(tf.tensor1d(truth, 'int32'), k), w)));
    const starts = tf.tidy(() =>
      projectSimplex(tf.tensor2d(rng.uniformArray(b * s * k), [b * s, k])),
    );
    const problem = simplexProblem(w, starts);
    const r = decodeGradient(psi, problem, { steps: 60, learningRate: 0.3 });
    expect(r.outputs).toEqual(truth);
    for (const l of r.losses) expect(l).toBeCloseTo(0, 4);
    expect(r.trace.length).toBe(61);
    expect(r.trace[60]!).toBeLessThan(r.trace[0]!);
    // With no step, it returns the best rounded start.
    const r0 = decodeGradient(psi, problem, { steps: 0 });
    const startLabels = problem.round([starts]);
    const sc = tf.tidy(() =>
      learnedLoss(psi, unitRows(problem.embedOutputs(startLabels))).arraySync(),
    );
    for (let i = 0; i < b; i++) {
      const best = Math.min(...Array.from({ length: s }, (_, j) => sc[i]![i * s + j]!));
      expect(r0.losses[i]!).toBeCloseTo(best, 4);
      expect(r.losses[i]!).toBeLessThanOrEqual(best + 1e-5);
    }
    // Rounding every 20 steps too: never worse in Δ, and the winner's index names its group.
    const rr = decodeGradient(psi, problem, { steps: 60, learningRate: 0.3, roundEvery: 20 });
    for (let i = 0; i < b; i++) {
      expect(rr.losses[i]!).toBeLessThanOrEqual(r.losses[i]! + 1e-5);
      expect(rr.start[i]!).toBeLessThan(4 * s); // last, steps 20 and 40, starts
    }
    await expectNoLeaks(() => {
      decodeGradient(psi, problem, { steps: 3 });
      decodeGradient(psi, problem, { steps: 3, roundEvery: 1 });
    });
    expectThrow(
      () => decodeGradient(tf.zeros([2, d]), problem),
      SegShapeError,
      `decodeGradient: problem.starts[0] has shape [${b * s},${k}], expected a first axis of b·s with b = 2`,
    );
    expectThrow(
      () => decodeGradient(psi, { ...problem, round: 3 as never }),
      SegValueError,
      'decodeGradient: problem.round is 3, expected a function',
    );
    tf.dispose([w, psi, starts]);
  });
});

describeBackends('trainOutputEmbedding and fitSurrogate', () => {
  it('contrastive training separates the outputs; the surrogate regression fits ψ', async () => {
    const rng = new Rng(5);
    const n = 8;
    const outputs = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
    );
    const enc = linearEncoder(rng, n, 8);
    const augment = (y: number[], r: Rng) => y.map((v) => v + r.normal(0, 0.1));
    const before = tf.tidy(() =>
      learnedLoss(embedOutputs(enc, outputs), embedOutputs(enc, outputs)).arraySync(),
    );
    const report = trainOutputEmbedding(enc, outputs, {
      augment,
      epochs: 60,
      batchSize: 8,
      learningRate: 0.05,
      seed: 1,
      temperature: 0.5,
    });
    expect(report.losses.length).toBe(60);
    const last = report.losses.slice(50).reduce((a, v) => a + v, 0) / 10;
    expect(last).toBeLessThan(report.losses[0]! - 0.2);
    const after = tf.tidy(() =>
      learnedLoss(embedOutputs(enc, outputs), embedOutputs(enc, outputs)).arraySync(),
    );
    const minOff = (m: number[][]) => Math.min(...m.flatMap((r, i) => r.filter((_, j) => j !== i)));
    expect(minOff(after)).toBeGreaterThan(minOff(before));
    // Surrogate: inputs are noisy copies of the outputs, h linear.
    const x = tf.tensor2d(outputs.map((y) => augment(y, rng)));
    const psi = embedOutputs(enc, outputs, 3);
    const w = tf.variable(tf.zeros([n, 8]));
    const model: StructuredEncoder<tf.Tensor> = {
      variables: [w],
      apply: (t) => tf.matMul(t as tf.Tensor2D, w),
    };
    const fit = fitSurrogate(model, x, psi, { epochs: 150, batchSize: 4, learningRate: 0.05 });
    expect(fit.losses[149]!).toBeLessThan(0.05 * fit.losses[0]!);
    const h = model.apply(x);
    expect(Array.from(decodeCandidates(h, psi).indices)).toEqual(outputs.map((_, i) => i));
    await expectNoLeaks(() => {
      trainOutputEmbedding(enc, outputs, { augment, epochs: 1, batchSize: 3 });
      fitSurrogate(model, x, psi, { epochs: 1 });
    });
    expectThrow(
      () => trainOutputEmbedding(enc, outputs.slice(0, 1), { augment }),
      SegShapeError,
      'trainOutputEmbedding: outputs has 1 items, expected an array of at least 2',
    );
    expectThrow(
      () => trainOutputEmbedding(enc, outputs, { augment, epochs: 1.5 }),
      SegRangeError,
      'trainOutputEmbedding: options.epochs is 1.5, expected an integer ≥ 1',
    );
    expectThrow(
      () => trainOutputEmbedding(enc, outputs, {} as never),
      SegValueError,
      'trainOutputEmbedding: options.augment is undefined, expected a function',
    );
    expectThrow(
      () => fitSurrogate(model, tf.zeros([3, n]), psi),
      SegShapeError,
      'fitSurrogate: inputs has 3 rows, expected 8 like targets',
    );
    expectThrow(
      () => fitSurrogate({ variables: [], apply: model.apply }, x, psi),
      SegValueError,
      'fitSurrogate: model.variables is , expected a non-empty tf.Variable[]',
    );
    tf.dispose([x, psi, h, w, enc.w]);
  });
});
