// The machine's Node 20, which the agent targets: the e2e, unit and bench helpers that run a real
// agent process start it with this, while vitest and the npm scripts run on Node 22.
import { execFileSync } from "node:child_process";
import { delimiter, join } from "node:path";

let cachedNode20: string | undefined;

/** The path of a Node 20 binary: the first on PATH, else the usual install places. */
export function node20(): string {
  if (cachedNode20) return cachedNode20;
  const candidates = [
    ...(process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, "node")),
    "/usr/local/bin/node",
    "/usr/bin/node",
    "/bin/node",
  ];
  for (const candidate of candidates) {
    try {
      if (execFileSync(candidate, ["--version"], { encoding: "utf8" }).startsWith("v20.")) {
        cachedNode20 = candidate;
        return candidate;
      }
    } catch {
      // not there
    }
  }
  throw new Error("no Node 20 found; the agent must run on Node 20");
}
