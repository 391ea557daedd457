#!/usr/bin/env node
// Publishes Swagger UI into the Worker's static assets, so /swaggerui needs nothing but the Worker:
// the pinned `swagger-ui-dist` package's bundle, stylesheet and icons, and our initializer
// (scripts/docs-assets/swagger-initializer.js), into dist/public/swaggerui/.
//
// Usage: node scripts/build-docs-assets.mjs [--outdir DIR]
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Served by the Worker at /swaggerui/<file> (workers/routes/docs.ts). */
export const DEFAULT_DOCS_DIR = join(ROOT, "dist/public/swaggerui");
const FROM_PACKAGE = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "favicon-16x16.png"];

/** Writes `data` to `file` unless it already holds exactly that (a running wrangler dev reloads on changes). */
async function writeIfChanged(file, data) {
  const current = await readFile(file).catch(() => null);
  if (current?.equals(data)) return false;
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
  return true;
}

/**
 * Copies Swagger UI and its initializer into `dir`; files already up to date are left alone.
 * @param {string} [dir]
 * @returns {Promise<{ dir: string, version: string, files: string[] }>}
 */
export async function publishDocsAssets(dir = DEFAULT_DOCS_DIR) {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve("swagger-ui-dist/package.json");
  const { version } = JSON.parse(await readFile(pkgFile, "utf8"));
  await mkdir(dir, { recursive: true });
  const sources = [
    ...FROM_PACKAGE.map((name) => [name, join(dirname(pkgFile), name)]),
    ["swagger-initializer.js", join(ROOT, "scripts/docs-assets/swagger-initializer.js")],
  ];
  for (const [name, source] of sources) await writeIfChanged(join(dir, name), await readFile(source));
  return { dir, version, files: sources.map(([name]) => name) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({ options: { outdir: { type: "string" } } });
  try {
    const result = await publishDocsAssets(values.outdir ? resolve(values.outdir) : undefined);
    console.error(`published Swagger UI ${result.version} into ${result.dir}`);
  } catch (error) {
    console.error(`docs assets build failed: ${error?.message ?? error}`);
    process.exit(1);
  }
}
