// Questions on the terminal: a yes/no, a line, and a password read without echo.
import { createInterface } from "node:readline";
import { CliError } from "./errors";

function requireTty(what: string): void {
  if (!process.stdin.isTTY) throw new CliError(`${what} needs a terminal; pass it as a flag instead`);
}

/** Asks a question on stderr and reads one line from the terminal. */
export async function ask(question: string): Promise<string> {
  requireTty(question.replace(/[:?]\s*$/, ""));
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}

/** A yes/no question; only `y` or `yes` is yes. */
export async function confirm(question: string): Promise<boolean> {
  return /^y(es)?$/i.test((await ask(`${question} [y/N] `)).trim());
}

/** Reads a password from the terminal without echoing it. */
export async function askHidden(question: string): Promise<string> {
  requireTty("the password");
  process.stderr.write(question);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding("utf8");
  let value = "";
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === "\r" || ch === "\n" || ch === "\u0004") {
            stdin.off("data", onData);
            return resolve(value);
          }
          if (ch === "\u0003") {
            stdin.off("data", onData);
            return reject(new CliError("cancelled", 130));
          }
          if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write("\n");
  }
}

/** All of stdin, without the final newline (for `--password-stdin`). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}
