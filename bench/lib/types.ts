// Shapes shared by the benchmarks and the report.

export interface Mode {
  quick: boolean;
  /** CPU-profile the Worker's workerd during the measured windows (`--profile`). */
  profile: boolean;
  /** Path prefix for extra files of this run (bench/results/<timestamp>). */
  filePrefix: string;
  /** Log a progress line. */
  log(message: string): void;
}

export interface Goal {
  what: string;
  goal: string;
  value: string;
  met: boolean | null;
}

export interface BenchResult {
  name: string;
  title: string;
  /** Markdown tables/lines for latest.md. */
  markdown: string[];
  goals: Goal[];
  notes: string[];
  data: Record<string, unknown>;
  error?: string;
  seconds?: number;
}

/** A Markdown table from a header and rows. */
export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c)).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : "—");
