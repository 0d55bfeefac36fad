/**
 * A one-line progress bar on stderr, drawn only when stderr is an interactive terminal (never in
 * pipelines, CI logs or when output is redirected), so stdout stays clean for JSON, CSV or PDF.
 */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): boolean;
}

export function progressWanted(stream: ProgressStream, env: NodeJS.ProcessEnv, quiet = false): boolean {
  return Boolean(stream.isTTY) && !quiet && env.TERM !== 'dumb';
}

export class ProgressBar {
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly enabled: boolean,
    private readonly width = 24,
  ) {}

  update(done: number, total: number, label: string): void {
    if (!this.enabled) return;
    const ratio = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(ratio * this.width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(this.width - filled)}`;
    let line = `Auditing ${bar} ${done}/${total} ${label}`;
    const columns = this.stream.columns ?? 80;
    if (line.length > columns - 1) line = line.slice(0, Math.max(0, columns - 2));
    this.stream.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }

  /** Clear the bar so whatever follows starts on a clean line. */
  clear(): void {
    if (!this.enabled || !this.drawn) return;
    this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
