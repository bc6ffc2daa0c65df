// A small hand-written SVG line plot: one row per panel, training loss on
// the left, test error on the right, both on a log scale.

interface Run {
  name: string;
  trainLoss: number[];
  testErr: number[];
}
interface Panel {
  title: string;
  runs: Run[];
}

const COLORS: Record<string, string> = { pathSgd: '#d62728', sgd: '#1f77b4', adagrad: '#2ca02c' };
const LABELS: Record<string, string> = { pathSgd: 'Path-SGD', sgd: 'SGD', adagrad: 'AdaGrad' };

export function renderSvg(panels: Panel[], caption: string): string {
  const pw = 360;
  const ph = 170;
  const ml = 56;
  const mt = 28;
  const gap = 40;
  const width = 2 * (ml + pw) + gap + 20;
  const height = 50 + panels.length * (ph + mt + 36) + 30;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11" role="img" aria-label="${caption}">`,
    `<title>${caption}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="13">${caption}</text>`,
  ];
  let legendX = 20;
  for (const k of Object.keys(COLORS)) {
    parts.push(
      `<line x1="${legendX}" y1="36" x2="${legendX + 20}" y2="36" stroke="${COLORS[k]}" stroke-width="2"/>`,
      `<text x="${legendX + 24}" y="40">${LABELS[k]}</text>`,
    );
    legendX += 100;
  }
  panels.forEach((panel, row) => {
    const top = 50 + row * (ph + mt + 36) + mt;
    for (const [col, key] of [
      [0, 'trainLoss'],
      [1, 'testErr'],
    ] as const) {
      const left = ml + col * (pw + ml + gap);
      const series = panel.runs.map((r) =>
        r[key].map((v) => (Number.isFinite(v) ? v : Number.NaN)),
      );
      const finite = series.flat().filter((v) => Number.isFinite(v) && v > 0);
      const log = true; // both on a log scale: the late epochs are what differ
      const tf = (v: number) => (log ? Math.log10(v) : v);
      let lo = Math.min(...finite.map(tf));
      let hi = Math.max(...finite.map(tf));
      if (!(hi > lo)) {
        lo -= 1;
        hi += 1;
      }
      const n = Math.max(...series.map((s) => s.length)) - 1;
      const X = (i: number) => left + (pw * i) / Math.max(1, n);
      const Y = (v: number) => top + ph - (ph * (tf(v) - lo)) / (hi - lo);
      parts.push(
        `<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
        `<text x="${left + pw / 2}" y="${top - 8}" text-anchor="middle">${panel.title}: ${key === 'trainLoss' ? 'training loss' : 'test error'} (log)</text>`,
        `<text x="${left + pw / 2}" y="${top + ph + 28}" text-anchor="middle">epoch</text>`,
      );
      for (let i = 0; i <= n; i += Math.max(1, Math.ceil(n / 10))) {
        parts.push(`<text x="${X(i)}" y="${top + ph + 14}" text-anchor="middle">${i}</text>`);
      }
      for (let t = 0; t <= 4; t++) {
        const v = lo + ((hi - lo) * t) / 4;
        const shown = log ? 10 ** v : v;
        const label =
          key === 'trainLoss' ? shown.toPrecision(2) : `${(100 * shown).toPrecision(2)}%`;
        const y = top + ph - (ph * t) / 4;
        parts.push(
          `<line x1="${left}" y1="${y}" x2="${left + pw}" y2="${y}" stroke="#eee"/>`,
          `<text x="${left - 4}" y="${y + 4}" text-anchor="end">${label}</text>`,
        );
      }
      panel.runs.forEach((run, k) => {
        const pts = series[k]!.map((v, i) =>
          Number.isFinite(v) && v > 0 ? `${X(i).toFixed(1)},${Y(v).toFixed(1)}` : null,
        ).filter((p) => p !== null);
        if (pts.length > 0) {
          parts.push(
            `<polyline fill="none" stroke="${COLORS[run.name] ?? '#000'}" stroke-width="1.8" points="${pts.join(' ')}"/>`,
          );
        }
      });
    }
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
