/**
 * A terminal progress bar: `label [=====>    ] 42/100 12.3 it/s ETA 0:05 | extra`. Redraws in
 * place on a TTY, prints a line every `everyPercent` percent otherwise (logs, CI).
 */
export interface ProgressOptions {
  total: number;
  label?: string;
  width?: number;
  stream?: NodeJS.WriteStream;
  everyPercent?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

export class ProgressBar {
  private readonly start = performance.now();
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private lastPrinted = -1;
  private done = 0;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  update(done: number, extra = ''): void {
    this.done = done;
    const { total } = this.opts;
    const elapsed = (performance.now() - this.start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = (total - done) / Math.max(rate, 1e-9);
    const width = this.opts.width ?? 24;
    const filled = Math.min(width, Math.round((done / Math.max(total, 1)) * width));
    const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? (done >= total ? '=' : '>') : '') + ' '.repeat(width - filled);
    const line = `${this.opts.label ?? ''} [${bar}] ${done}/${total} ${rate.toFixed(rate < 10 ? 2 : 1)} it/s ETA ${formatDuration(eta)}${extra ? ' | ' + extra : ''}`;
    if (this.tty) {
      this.stream.write(`\r${line}\x1b[K`);
    } else {
      const pct = Math.floor((done / Math.max(total, 1)) * 100);
      const every = this.opts.everyPercent ?? 10;
      if (done === total || Math.floor(pct / every) !== Math.floor(this.lastPrinted / every)) {
        this.stream.write(line + '\n');
        this.lastPrinted = pct;
      }
    }
  }

  finish(extra = ''): void {
    if (this.done < this.opts.total) this.update(this.done, extra);
    if (this.tty) this.stream.write('\n');
  }
}
