// The live chart of a run's loss terms, one line per term, on uPlot.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLOURS = ['#d1242f', '#0969da', '#1a7f37', '#9a6700', '#8250df', '#1b7c83'];

/** A chart of named series against the iteration, rebuilt when the names change. */
export class LossChart {
  private plot: uPlot | null = null;
  private names: string[] = [];
  private data: number[][] = [];

  constructor(private readonly host: HTMLElement) {
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(host);
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(200, this.host.clientWidth), height: 180 };
  }

  /** Empties the chart. */
  reset(): void {
    this.plot?.destroy();
    this.plot = null;
    this.names = [];
    this.data = [];
  }

  /** Adds one iteration's terms . */
  push(iteration: number, terms: Record<string, number>): void {
    const names = Object.keys(terms);
    if (!this.plot || names.join('\u0000') !== this.names.join('\u0000')) this.build(names);
    this.data[0]!.push(iteration);
    names.forEach((n, i) => {
      const v = terms[n]!;
      this.data[i + 1]!.push(Number.isFinite(v) ? v : Number.NaN);
    });
    this.plot!.setData(this.data as uPlot.AlignedData);
  }

  /** How many iterations the chart holds. */
  get length(): number {
    return this.data[0]?.length ?? 0;
  }

  private build(names: string[]): void {
    this.reset();
    this.names = names;
    this.data = [[], ...names.map(() => [])];
    this.plot = new uPlot(
      {
        ...this.size(),
        scales: { x: { time: false } },
        axes: [{ label: 'iteration' }, { size: 60 }],
        series: [
          { label: 'iteration' },
          ...names.map((label, i) => ({
            label,
            stroke: COLOURS[i % COLOURS.length]!,
            width: 2,
            points: { show: true, size: 5 },
            value: (_: uPlot, v: number | null) => (v === null ? '–' : v.toPrecision(4)),
          })),
        ],
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
      },
      this.data as uPlot.AlignedData,
      this.host,
    );
  }
}
