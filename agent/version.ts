import { version as packageVersion } from "../package.json";

// Replaced by esbuild `define` in scripts/build-agent.mjs, so a test can build a
// bundle that reports another version; unbundled (tests, tsc) it is undefined.
declare const __OUTPOST_AGENT_VERSION__: string | undefined;

/** The agent's version: the build's `--version`, else the root package.json version. */
export const AGENT_VERSION: string =
  typeof __OUTPOST_AGENT_VERSION__ === "string" ? __OUTPOST_AGENT_VERSION__ : packageVersion;
