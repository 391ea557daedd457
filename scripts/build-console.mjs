#!/usr/bin/env node
// Builds the web console (web/, Preact + Vite) into the Worker's static assets, dist/public/console/,
// served by the Worker at /console (workers/routes/console.ts). A hash of web/'s sources and the
// pinned package versions is kept beside the output, so `npm start` rebuilds only when they changed.
//
// Usage: node scripts/build-console.mjs [--force]
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WEB = join(ROOT, "web");
/** Served by the Worker at /console/… */
export const CONSOLE_DIR = join(ROOT, "dist/public/console");
const STAMP = ".source-hash";
const PACKAGES = ["preact", "preact-iso", "uplot", "vite"];

async function files(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await files(path)));
    else out.push(path);
  }
  return out.sort();
}

async function sourceHash() {
  const hash = createHash("sha256");
  for (const file of await files(WEB)) hash.update(relative(WEB, file)).update(await readFile(file));
  for (const name of PACKAGES) {
    const pkg = JSON.parse(await readFile(join(ROOT, "node_modules", name, "package.json"), "utf8"));
    hash.update(`${name}@${pkg.version}`);
  }
  return hash.digest("hex");
}

/** Gzipped size of every JavaScript file of the build: an upper bound on a first load, which fetches
 * only the entry script (other pages are their own files, fetched when opened; the console bench
 * measures what a first load of the fleet page really fetched). */
export async function compressedJsBytes(dir = CONSOLE_DIR) {
  let total = 0;
  for (const file of await files(dir))
    if (file.endsWith(".js")) total += gzipSync(await readFile(file)).length;
  return total;
}

/**
 * Builds the console unless the output already matches web/'s sources (or `force`).
 * @returns {Promise<{ dir: string, built: boolean, jsGzipBytes: number }>}
 */
export async function buildConsole({ force = false } = {}) {
  const hash = await sourceHash();
  const stamp = await readFile(join(CONSOLE_DIR, STAMP), "utf8").catch(() => "");
  const present = await stat(join(CONSOLE_DIR, "index.html")).then(
    () => true,
    () => false,
  );
  if (!force && present && stamp === hash)
    return { dir: CONSOLE_DIR, built: false, jsGzipBytes: await compressedJsBytes() };
  await viteBuildInOwnProcess();
  await refuseRunnerRewrites();
  await writeFile(join(CONSOLE_DIR, STAMP), hash);
  return { dir: CONSOLE_DIR, built: true, jsGzipBytes: await compressedJsBytes() };
}

async function viteBuild() {
  const { build } = await import("vite");
  await build({
    configFile: join(WEB, "vite.config.mjs"),
    root: WEB,
    logLevel: "warn",
    build: { outDir: CONSOLE_DIR, emptyOutDir: true },
  });
}

// Vite emits its lazy-import preload helper from the source text of one of its own functions. Loaded
// inside Vitest's module runner (the test suite's global setup), that text has `import.meta` rewritten
// to `__vite_ssr_import_meta__`, and every lazy page then fails in the browser. A plain Node process
// sees Vite as published.
function viteBuildInOwnProcess() {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--vite-only"], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`vite build exited with ${code}`)),
    );
  });
}

async function refuseRunnerRewrites() {
  for (const file of await files(CONSOLE_DIR))
    if (file.endsWith(".js") && (await readFile(file, "utf8")).includes("__vite_ssr_"))
      throw new Error(`${relative(ROOT, file)} carries a module runner's rewrite (__vite_ssr_)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({
    options: { force: { type: "boolean" }, "vite-only": { type: "boolean" } },
  });
  if (values["vite-only"]) {
    await viteBuild();
    process.exit(0);
  }
  try {
    const result = await buildConsole({ force: values.force });
    const kb = (result.jsGzipBytes / 1024).toFixed(1);
    console.error(`console ${result.built ? "built" : "up to date"} in ${result.dir} (${kb} KB gzipped JS)`);
  } catch (error) {
    console.error(`console build failed: ${error?.message ?? error}`);
    process.exit(1);
  }
}
