import { afterEach } from "vitest";
import { tail } from "./command-helpers";

/** One process's output, or it with how many of its last lines to print (40 by default). */
export type Output = string | undefined | { text: string | undefined; lines: number };

/**
 * After each failed test of the file, prints the last lines of every output `collect` names (the
 * stack's, each agent's, a fake server's): all a CI log keeps of what the processes said.
 * @example printOutputsOnFailure(() => ({ stack: stack?.output(), agent: agent?.output() }));
 */
export function printOutputsOnFailure(collect: () => Record<string, Output>): void {
  afterEach((ctx) => {
    if (ctx.task.result?.state !== "fail") return;
    for (const [name, output] of Object.entries(collect())) {
      const { text, lines } = typeof output === "object" ? output : { text: output, lines: 40 };
      if (text !== undefined) console.error(`--- ${name} ---\n${tail(text, lines)}`);
    }
  });
}
