// Waiting for the stack to be quiet after a connect wave, before a timed fan-out. The wave leaves
// work behind it: hellos' libSQL writes grouped by the batch writers, status changes, last-seen
// refreshes and held samples of agents that all connected within a minute. A fan-out timed while
// that drains measures the wave too (issue 23: the first of five fan-outs was 2–3× the others).
import type { BenchStack } from "./bench-stack";
import { sleep } from "./stats";

export interface Quiet {
  /** Whether the write rate fell to the bound before `maxMs`. */
  quiet: boolean;
  waited_ms: number;
  /** libSQL writes in each window, oldest first. */
  windows: number[];
  /** The bound a window's writes had to be under. */
  bound: number;
}

/**
 * Resolves once two `windowMs` windows in a row saw at most `bound` libSQL write statements (steady state: one
 * grouped last-seen refresh per node every 30 s, far below it), or after `maxMs`.
 */
export async function waitQuiet(
  stack: BenchStack,
  nodes: number,
  options: { windowMs?: number; maxMs?: number } = {},
): Promise<Quiet> {
  const windowMs = options.windowMs ?? 3000;
  const maxMs = options.maxMs ?? 120_000;
  // A tenth of the fleet per 3 s window: the connect wave writes several statements per node.
  const bound = Math.max(5, Math.round(nodes / 10));
  const started = Date.now();
  const windows: number[] = [];
  let before = (await stack.probeSettled())?.writes ?? 0;
  while (Date.now() - started < maxMs) {
    await sleep(windowMs);
    const now = (await stack.probeSettled())?.writes ?? 0;
    windows.push(now - before);
    before = now;
    // Two windows in a row: one quiet window can fall between two grouped writes.
    if (windows.length >= 2 && windows.slice(-2).every((w) => w <= bound)) {
      return { quiet: true, waited_ms: Date.now() - started, windows, bound };
    }
  }
  return { quiet: false, waited_ms: Date.now() - started, windows, bound };
}
