import { afterEach } from "vitest";
import { tail } from "./command-helpers";

/** One process's output, or it with how many of its last lines to print (40 by default). */
export type Output = string | undefined | { text: string | undefined; lines: number };

/** The sections a failure prints: each output's last lines under its name, absent ones left out. */
export function outputTails(outputs: Record<string, Output>): string[] {
  return Object.entries(outputs).flatMap(([name, output]) => {
    const { text, lines } = typeof output === "object" ? output : { text: output, lines: 40 };
    return text === undefined ? [] : [`--- ${name} ---\n${tail(text, lines)}`];
  });
}

/**
 * After each failed test of the file, prints the last lines of every output `collect` names (the
 * stack's, each agent's, a fake server's): all a CI log keeps of what the processes said.
 * @example printOutputsOnFailure(() => ({ stack: stack?.output(), agent: agent?.output() }));
 */
export function printOutputsOnFailure(collect: () => Record<string, Output>): void {
  afterEach((ctx) => {
    if (ctx.task.result?.state !== "fail") return;
    for (const section of outputTails(collect())) console.error(section);
  });
}
