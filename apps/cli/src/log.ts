/**
 * Progress on stderr (results go to stdout): one line per event, or, on a
 * terminal, a status line rewritten in place. `--quiet` silences it; errors
 * are printed by main whatever --quiet says.
 *
 * Plain lines rather than a progress-bar library: most runs that last long
 * (a cluster shard, CI) write to a log file, not a terminal, where a bar
 * library prints nothing or escape codes; a rewritten status line covers the
 * terminal.
 */
export class Progress {
  private pending = false;

  constructor(
    private readonly quiet: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** A line that stays. */
  line(text: string): void {
    if (this.quiet) return;
    this.clear();
    this.stream.write(`${text}\n`);
  }

  /** A line that the next one replaces (on a terminal; elsewhere a plain line). */
  status(text: string): void {
    if (this.quiet) return;
    if (!this.stream.isTTY) {
      this.stream.write(`${text}\n`);
      return;
    }
    const width = this.stream.columns || 80;
    this.stream.write(`\r\x1b[K${text.length >= width ? `${text.slice(0, width - 2)}…` : text}`);
    this.pending = true;
  }

  /** Ends a status line, so that what follows starts on a line of its own. */
  clear(): void {
    if (this.pending) this.stream.write('\r\x1b[K');
    this.pending = false;
  }
}
