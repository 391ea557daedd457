import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";

/** A collector ran out of its time budget. */
export class BudgetExceeded extends Error {}

/** A section cannot be collected on this host (no package manager, no Docker…): reported, not an error. */
export class Unavailable extends Error {}

/**
 * Races `work` against a timer: a hung NFS mount or a wedged CLI must not stall the whole inventory.
 * The work itself is not cancelled (Node cannot cancel a blocked fs call); its result is ignored.
 */
export async function withBudget<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BudgetExceeded(`${what} took longer than ${ms} ms`)), ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A file's text, or null when it does not exist or cannot be read. */
export async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return null;
  }
}

/** A file's first line trimmed, or null (sysfs attributes). */
export async function readLine(path: string): Promise<string | null> {
  const text = await readText(path);
  if (text === null) return null;
  const line = text.split("\n")[0].trim();
  return line === "" ? null : line;
}

/** What a command printed and how it exited; null `code` when it was killed. */
export interface CommandOutput {
  stdout: string;
  code: number | null;
}

/**
 * Runs a program (no shell) with a deadline and an output cap, in the C locale so its output parses.
 * Null when the program is not installed.
 */
export function runCommand(
  file: string,
  args: string[],
  options: { timeoutMs: number; maxBytes?: number; env?: Record<string, string> },
): Promise<CommandOutput | null> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        timeout: options.timeoutMs,
        maxBuffer: options.maxBytes ?? 32 * 1024 * 1024,
        env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C", ...options.env },
        killSignal: "SIGKILL",
      },
      (error, stdout) => {
        if (error && (error as NodeJS.ErrnoException).code === "ENOENT") return resolve(null);
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ stdout: String(stdout), code });
      },
    );
  });
}
