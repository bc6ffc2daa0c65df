/** Float64 plain-JS reference of the large-margin loss (methods.md §5), for the tests. */

export interface RefOptions {
  lambda: number;
  alpha: number;
  beta: number;
  gamma: number;
  deltaVar: number;
  deltaDist: number;
  aggregation: 'max' | 'mean';
}

export const DEFAULTS: RefOptions = {
  lambda: 1,
  alpha: 1,
  beta: 1,
  gamma: 0.001,
  deltaVar: 0.5,
  deltaDist: 1.5,
  aggregation: 'max',
};

export interface RefState {
  momentum: number;
  centroids: number[];
  seen: number[];
}

export interface RefTerms {
  ce: number;
  compactness: number;
  margin: number;
  regularizer: number;
  total: number;
  loss: number;
}

/**
 * Every term in float64: features f `[N,D]`, logits z `[N,K]`, labels
 * (−1 unlabelled), weight `[D,K]`, bias `[K]`, written loop by loop from the
 * formulas (not from the implementation's matrix form).
 */
export function refMargin(
  f: ArrayLike<number>,
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  state: RefState,
  n: number,
  d: number,
  k: number,
  o: RefOptions,
): RefTerms {
  const classes: number[] = [];
  for (let c = 0; c < k; c++) if (Array.from(labels).includes(c)) classes.push(c);
  const batchMean = (c: number): number[] => {
    const m = new Array<number>(d).fill(0);
    let cnt = 0;
    for (let i = 0; i < n; i++) {
      if (labels[i] !== c) continue;
      cnt++;
      for (let j = 0; j < d; j++) m[j]! += f[i * d + j]!;
    }
    return m.map((v) => v / cnt);
  };
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  let ce = 0;
  let labelled = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (y < 0) continue;
    labelled++;
    let mx = -Infinity;
    for (let c = 0; c < k; c++) mx = Math.max(mx, logits[i * k + c]!);
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(logits[i * k + c]! - mx);
    ce += -(logits[i * k + y]! - mx - Math.log(s));
  }
  ce = labelled ? ce / labelled : 0;
  let compactness = 0;
  let margin = 0;
  let regularizer = 0;
  for (const c of classes) {
    const mb = batchMean(c);
    const mu = state.momentum;
    const mc = mb.map((v, j) =>
      state.seen[c]! > 0 ? (1 - mu) * v + mu * state.centroids[c * d + j]! : v,
    );
    let v = 0;
    let cnt = 0;
    for (let i = 0; i < n; i++) {
      if (labels[i] !== c) continue;
      cnt++;
      const dist = norm(mc.map((m, j) => f[i * d + j]! - m));
      v += Math.max(0, dist - o.deltaVar) ** 2;
    }
    compactness += v / cnt;
    const z = new Array<number>(k).fill(0).map((_, j) => {
      let s = b[j]!;
      for (let t = 0; t < d; t++) s += w[t * k + j]! * mb[t]!;
      return s;
    });
    const hinges: number[] = [];
    for (let j = 0; j < k; j++) {
      if (j === c) continue;
      const wd = new Array<number>(d).fill(0).map((_, t) => w[t * k + c]! - w[t * k + j]!);
      hinges.push(Math.max(0, o.deltaDist - (z[c]! - z[j]!) / norm(wd)));
    }
    margin +=
      o.aggregation === 'max' ? Math.max(...hinges) : hinges.reduce((s, x) => s + x, 0) / (k - 1);
    regularizer += norm(mc);
  }
  const p = classes.length || 1;
  compactness /= p;
  margin /= p;
  regularizer /= p;
  const total = o.lambda * (o.alpha * compactness + o.beta * margin + o.gamma * regularizer);
  return { ce, compactness, margin, regularizer, total, loss: ce + total };
}
