#!/usr/bin/env node
// `npm run bench [-- --only roundtrip,fanout] [--quick]`: bundles the benchmark code with esbuild
// (the TypeScript imports agent/, src/ and test/support/ without file extensions, which Node's type
// stripping can't resolve) into bench/dist/, then runs bench/main.ts. The swarm is bundled whole,
// like the agent, and runs on Node 20.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const dir = fileURLToPath(new URL(".", import.meta.url));
const out = `${dir}dist`;
// ws is CommonJS and calls require(); an ESM bundle needs a real `require` in scope (as scripts/build-agent.mjs does).
const banner =
  'import { createRequire as __benchCreateRequire } from "node:module"; const require = __benchCreateRequire(import.meta.url);';

await Promise.all([
  build({
    entryPoints: [`${dir}main.ts`],
    outfile: `${out}/main.mjs`,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    packages: "external",
    sourcemap: "inline",
    logLevel: "warning",
  }),
  build({
    entryPoints: [`${dir}lib/swarm.ts`],
    outfile: `${out}/swarm.mjs`,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    banner: { js: banner },
    sourcemap: "inline",
    logLevel: "warning",
  }),
]);
// process.exit() runs the stack helpers' exit handlers, which stop the stacks they started.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));
const { main } = await import(`${out}/main.mjs`);
process.exitCode = await main(process.argv.slice(2));
