/** A small SVG line plot of loss curves (x: gradient steps). */
export function lossCurveSvg(
  curves: Record<string, { steps: number; loss: number }[]>,
  title: string,
): string {
  const W = 560;
  const H = 320;
  const m = { l: 60, r: 120, t: 30, b: 40 };
  const all = Object.values(curves).flat();
  const xMax = Math.max(...all.map((p) => p.steps));
  const xMin = Math.min(...all.map((p) => p.steps));
  const yMax = Math.max(...all.map((p) => p.loss));
  const yMin = Math.min(0, ...all.map((p) => p.loss));
  const sx = (x: number) => m.l + ((x - xMin) / Math.max(xMax - xMin, 1)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - yMin) / Math.max(yMax - yMin, 1e-12)) * (H - m.t - m.b);
  const colours = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd'];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle">${title}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
    `<text x="${(W - m.r + m.l) / 2}" y="${H - 8}" text-anchor="middle">gradient steps</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = yMin + ((yMax - yMin) * i) / 4;
    parts.push(`<text x="${m.l - 6}" y="${sy(y) + 4}" text-anchor="end">${y.toFixed(3)}</text>`);
    const x = xMin + ((xMax - xMin) * i) / 4;
    parts.push(
      `<text x="${sx(x)}" y="${H - m.b + 16}" text-anchor="middle">${Math.round(x)}</text>`,
    );
  }
  Object.entries(curves).forEach(([name, pts], i) => {
    const c = colours[i % colours.length];
    parts.push(
      `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${sx(p.steps).toFixed(1)},${sy(p.loss).toFixed(1)}`).join(' ')}"/>`,
    );
    parts.push(`<text x="${W - m.r + 8}" y="${m.t + 16 * (i + 1)}" fill="${c}">${name}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
