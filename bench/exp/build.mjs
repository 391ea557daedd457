// Bundles one experiment file of bench/exp/ like bench/run.mjs does: node bench/exp/build.mjs <in.ts> <out.mjs>
import { build } from "esbuild";

const banner = 'import { createRequire as __r } from "node:module"; const require = __r(import.meta.url);';
await build({
  entryPoints: [process.argv[2]],
  outfile: process.argv[3],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  packages: "external",
  banner: { js: banner },
  logLevel: "warning",
});
