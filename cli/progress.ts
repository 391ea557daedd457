// The progress line of `outpost run` on a terminal: counts per status, redrawn in place on stderr,
// and wiped before any output line is printed so the two never interleave.
interface Counts {
  total: number;
  counts: { pending: number; sent: number; completed: number; cancelled: number; expired: number };
  exit_codes: Record<string, number>;
}

export class Progress {
  private line = "";

  constructor(private readonly enabled: boolean) {}

  /** Shows the counts (no-op when not on a terminal). */
  show(summary: Counts): void {
    if (!this.enabled) return;
    const { pending, sent, completed, cancelled, expired } = summary.counts;
    const failed =
      cancelled +
      expired +
      Object.entries(summary.exit_codes)
        .filter(([code]) => code !== "0")
        .reduce((n, [, c]) => n + c, 0);
    const done = completed + cancelled + expired;
    const width = 20;
    const filled = summary.total ? Math.round((done / summary.total) * width) : width;
    this.line = `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${summary.total}  pending ${pending} · sent ${sent} · completed ${completed} · failed ${failed}`;
    process.stderr.write(`\r\x1b[K${this.line}`);
  }

  /** Runs `write` with the progress line out of the way, then puts it back. */
  around(write: () => void): void {
    if (this.enabled && this.line) process.stderr.write("\r\x1b[K");
    write();
    if (this.enabled && this.line) process.stderr.write(this.line);
  }

  /** Removes the line for good. */
  clear(): void {
    if (this.enabled && this.line) process.stderr.write("\r\x1b[K");
    this.line = "";
  }
}
