#!/usr/bin/env node
// Bundles the agent (agent/main.ts) into one self-contained ESM file for Node ≥ 20:
// dist/agent/outpost-agent.mjs (+ .sha256 in `sha256sum` format, which the
// release endpoint and agent/install.sh verify against).
//
// Usage: node scripts/build-agent.mjs [--if-stale] [--version X] [--outfile F]
//   --if-stale   skip when the bundle is newer than every file under agent/ and src/
//   --version X  bake version X into the bundle instead of package.json's (tests build "version B")
//   --outfile F  write somewhere else (tests build into a temp dir, so parallel files never race)
import { createHash } from "node:crypto";
import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEFAULT_OUTFILE = join(ROOT, "dist/agent/outpost-agent.mjs");

// ws is CommonJS and calls require() for Node built-ins; in an ESM bundle esbuild's
// require shim throws unless a real `require` is in scope, so the banner provides one.
const BANNER = [
  "#!/usr/bin/env node",
  'import { createRequire as __outpostCreateRequire } from "node:module";',
  "const require = __outpostCreateRequire(import.meta.url);",
].join("\n");

/** Newest mtime (ms) of any file under `dir`, or 0 when it doesn't exist. */
async function newestMtime(dir) {
  let newest = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const s = await stat(join(entry.parentPath ?? entry.path, entry.name));
    newest = Math.max(newest, s.mtimeMs);
  }
  return newest;
}

/** True when `outfile` (and its checksum) exist and are newer than every input. */
async function isFresh(outfile) {
  let built;
  try {
    built = (await stat(outfile)).mtimeMs;
    await stat(`${outfile}.sha256`);
  } catch {
    return false;
  }
  const inputs = await Promise.all([
    newestMtime(join(ROOT, "agent")),
    newestMtime(join(ROOT, "src")),
    stat(join(ROOT, "package.json")).then((s) => s.mtimeMs),
    stat(fileURLToPath(import.meta.url)).then((s) => s.mtimeMs),
  ]);
  return built > Math.max(...inputs);
}

/**
 * Builds the agent bundle and its `.sha256` file.
 * @param {{ outfile?: string, version?: string }} [options]
 * @returns {Promise<{ outfile: string, version: string, sha256: string }>}
 * @example await buildAgent({ outfile: "/tmp/a/outpost-agent.mjs", version: "9.9.9" })
 */
export async function buildAgent(options = {}) {
  const outfile = resolve(options.outfile ?? DEFAULT_OUTFILE);
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
  const version = options.version ?? pkg.version;
  await mkdir(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [join(ROOT, "agent/main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    banner: { js: BANNER },
    define: { __OUTPOST_AGENT_VERSION__: JSON.stringify(version) },
    // Optional native speed-ups that ws loads inside try/catch; absent at runtime is fine.
    external: ["bufferutil", "utf-8-validate"],
    logLevel: "warning",
    legalComments: "eof",
  });
  await chmod(outfile, 0o755);
  const sha256 = createHash("sha256")
    .update(await readFile(outfile))
    .digest("hex");
  await writeFile(`${outfile}.sha256`, `${sha256}  ${outfile.split("/").pop()}\n`);
  return { outfile, version, sha256 };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({
    options: {
      "if-stale": { type: "boolean", default: false },
      version: { type: "string" },
      outfile: { type: "string" },
    },
  });
  const outfile = resolve(values.outfile ?? DEFAULT_OUTFILE);
  if (values["if-stale"] && (await isFresh(outfile))) process.exit(0);
  try {
    const result = await buildAgent({ outfile, version: values.version });
    console.error(`built ${result.outfile} (version ${result.version}, sha256 ${result.sha256})`);
  } catch (error) {
    console.error(`agent build failed: ${error?.message ?? error}`);
    process.exit(1);
  }
}
