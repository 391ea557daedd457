// What the agent's modules import as `node:readline` in the bundle (scripts/build-agent.mjs): loaded
// on the first call. Only reading logs uses it, and an ESM bundle hoists every built-in import to
// its top, so a plain import loaded it (~0.4 MB resident on Node 20) into every idle agent.
// A name missing here fails the build.
import { createRequire } from "node:module";
import type * as Readline from "node:readline";

let loaded: typeof Readline | undefined;
const readline = (): typeof Readline => {
  loaded ??= createRequire(import.meta.url)("node:readline") as typeof Readline;
  return loaded;
};

export const createInterface = ((...args: Parameters<typeof Readline.createInterface>) =>
  readline().createInterface(...args)) as typeof Readline.createInterface;
