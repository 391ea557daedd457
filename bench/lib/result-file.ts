// A benchmark's own results file (bench/results/<name>.md) holds its last run's figures and, below
// them, what people wrote over time: earlier runs, the causes found, what was tried. A run replaces
// only its own block (between the markers) and keeps the rest; written over whole, those notes were
// lost when a benchmark was run to refresh a figure.
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { RESULTS_DIR } from "./paths";
import type { BenchResult } from "./types";

const START = "<!-- bench: last run, written by `npm run bench` -->";
const END = "<!-- bench: end of last run -->";

export interface ResultFileOptions {
  /** How the run was sized ("quick", "full size"), after the date. */
  size?: string;
  /** What was measured, after the date (e.g. "1000 nodes"). */
  subject?: string;
  /** A last line, e.g. the command of the full-size run. */
  footer?: string;
}

/** The run's block: date, tables, goals and notes, between the markers. */
export function runBlock(result: BenchResult, options: ResultFileOptions): string {
  const heading = [new Date().toISOString(), options.size && `(${options.size})`].filter(Boolean).join(" ");
  const goals = result.goals.map(
    (g) =>
      `- ${g.what}: ${g.value} (goal ${g.goal}, ${g.met === null ? "—" : g.met ? "met" : "**not met**"})`,
  );
  const notes = result.notes.map((n) => `- ${n}`);
  return [
    START,
    options.subject ? `${heading}, ${options.subject}` : heading,
    "",
    ...result.markdown,
    "",
    ...goals,
    ...notes,
    ...(options.footer ? ["", options.footer] : []),
    END,
  ].join("\n");
}

/**
 * `existing` (a results file's text, null when there is none) with `run` in place of the last run's
 * block, else right under its title; a new file gets `title`.
 */
export function withRun(existing: string | null, title: string, run: string): string {
  if (existing === null) return `# ${title}\n\n${run}\n`;
  const start = existing.indexOf(START);
  const end = existing.indexOf(END, start);
  if (start >= 0 && end > start) return existing.slice(0, start) + run + existing.slice(end + END.length);
  const titleEnd = existing.startsWith("# ") ? existing.indexOf("\n") + 1 || existing.length : 0;
  return `${existing.slice(0, titleEnd)}\n${run}\n${existing.slice(titleEnd)}`;
}

/** Writes `result` into bench/results/<name>.md, keeping what the file holds besides its last run. */
export async function writeResultFile(name: string, result: BenchResult, options: ResultFileOptions = {}) {
  const path = `${RESULTS_DIR}/${name}.md`;
  const existing = existsSync(path) ? await readFile(path, "utf8") : null;
  await writeFile(path, withRun(existing, result.title, runBlock(result, options)));
}
