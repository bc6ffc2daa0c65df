// A hand-written SVG scatter of 2-D test features, coloured by class, with
// the regions of the linear classifier shaded lightly.

const COLOURS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

/** `points`: `[x, y, label]` triples; `weight` `[2,K]`, `bias` `[K]` of the classifier. */
export function scatterSvg(
  title: string,
  points: number[],
  weight: number[],
  bias: number[],
  size = 360,
): string {
  const n = points.length / 3;
  const xs = Array.from({ length: n }, (_, i) => points[3 * i]!).sort((a, b) => a - b);
  const ys = Array.from({ length: n }, (_, i) => points[3 * i + 1]!).sort((a, b) => a - b);
  const lo = (a: number[]) => a[Math.floor(0.005 * (a.length - 1))]!;
  const hi = (a: number[]) => a[Math.ceil(0.995 * (a.length - 1))]!;
  const half = Math.max(hi(xs) - lo(xs), hi(ys) - lo(ys)) * 0.55 || 1;
  const cx = (hi(xs) + lo(xs)) / 2;
  const cy = (hi(ys) + lo(ys)) / 2;
  const pad = 24;
  const inner = size - 2 * pad;
  const px = (x: number) => pad + ((x - cx + half) / (2 * half)) * inner;
  const py = (y: number) => pad + ((cy + half - y) / (2 * half)) * inner;
  const k = bias.length;
  const cls = (x: number, y: number) => {
    let best = 0;
    let bz = -Infinity;
    for (let c = 0; c < k; c++) {
      const z = weight[c]! * x + weight[k + c]! * y + bias[c]!;
      if (z > bz) [bz, best] = [z, c];
    }
    return best;
  };
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size + 16}" viewBox="0 0 ${size} ${size + 16}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  // classifier regions on a coarse grid, one rect per run of a row
  const cells = 60;
  const cw = inner / cells;
  const gx = (t: number) => cx - half + ((t + 0.5) / cells) * 2 * half;
  for (let j = 0; j < cells; j++) {
    const y = cy + half - ((j + 0.5) / cells) * 2 * half;
    let start = 0;
    for (let i = 1; i <= cells; i++) {
      const c = cls(gx(start), y);
      if (i < cells && cls(gx(i), y) === c) continue;
      out.push(
        `<rect x="${(pad + start * cw).toFixed(1)}" y="${(pad + j * cw).toFixed(1)}" width="${((i - start) * cw).toFixed(1)}" height="${cw.toFixed(1)}" fill="${COLOURS[c]}" fill-opacity="0.08"/>`,
      );
      start = i;
    }
  }
  // points, one group per class
  for (let c = 0; c < k; c++) {
    out.push(`<g fill="${COLOURS[c]}" fill-opacity="0.7">`);
    for (let i = 0; i < n; i++) {
      if (points[3 * i + 2] !== c) continue;
      const x = px(points[3 * i]!);
      const y = py(points[3 * i + 1]!);
      if (x < pad || x > size - pad || y < pad || y > size - pad) continue;
      out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="1.6"/>`);
    }
    out.push('</g>');
  }
  out.push(
    `<rect x="${pad}" y="${pad}" width="${inner}" height="${inner}" fill="none" stroke="#444"/>`,
  );
  out.push(`<text x="${pad}" y="16">${title}</text>`);
  out.push(
    `<text x="${pad}" y="${size + 10}" fill="#555">x ∈ [${(cx - half).toFixed(1)}, ${(cx + half).toFixed(1)}], y ∈ [${(cy - half).toFixed(1)}, ${(cy + half).toFixed(1)}]; colour = class</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
