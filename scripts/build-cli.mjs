// `npm run cli:build`: bundles the `outpost` CLI (cli/bin.ts with commander and openapi-fetch) into
// one file, dist/cli/outpost.mjs, that runs on Node >= 20 with nothing else installed.
//   --if-stale  build only when a source under cli/ (or src/version.ts, package.json) is newer
import { readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const CLI_BUNDLE = join(ROOT, "dist/cli/outpost.mjs");

async function newestInput() {
  const files = (await readdir(join(ROOT, "cli"), { recursive: true }))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(ROOT, "cli", f));
  files.push(join(ROOT, "src/version.ts"), join(ROOT, "package.json"));
  const times = await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs));
  return Math.max(...times);
}

/** Whether the bundle exists and is newer than every input. */
export async function isFresh() {
  const built = await stat(CLI_BUNDLE).catch(() => null);
  return built !== null && built.mtimeMs >= (await newestInput());
}

/** Builds dist/cli/outpost.mjs. */
export async function buildCli() {
  await build({
    entryPoints: [join(ROOT, "cli/bin.ts")],
    outfile: CLI_BUNDLE,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    // commander is CommonJS and requires Node built-ins.
    banner: {
      js: '#!/usr/bin/env node\nimport { createRequire } from "node:module";\nconst require = createRequire(import.meta.url);',
    },
    legalComments: "none",
    logLevel: "warning",
  });
  return CLI_BUNDLE;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  if (process.argv.includes("--if-stale") && (await isFresh())) process.exit(0);
  console.log(`built ${await buildCli()}`);
}
