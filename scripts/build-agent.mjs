#!/usr/bin/env node
// Bundles the agent (agent/main.ts) into one self-contained ESM file for Node ≥ 20 (AGENT_NODE_MAJOR):
// dist/agent/outpost-agent.mjs (+ .sha256 in `sha256sum` format, which the
// release endpoint and agent/install.sh verify against).
//
// Usage: node scripts/build-agent.mjs [--if-stale] [--version X] [--outfile F] [--publish DIR]
//   --if-stale   skip when the bundle is newer than every file under agent/ and src/
//   --version X  bake version X into the bundle instead of package.json's (tests build "version B")
//   --outfile F  write somewhere else (tests build into a temp dir, so parallel files never race)
//   --publish D  also publish bundle + release.json + install.sh into D (default dist/public/agent
//                when building the default outfile): the Worker serves agent releases from there
import { createHash } from "node:crypto";
import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEFAULT_OUTFILE = join(ROOT, "dist/agent/outpost-agent.mjs");
// The Worker serves the agent from its static assets (wrangler.toml [assets]): bundle, release record, install script.
const DEFAULT_PUBLISH_DIR = join(ROOT, "dist/public/agent");

/**
 * The oldest Node.js the agent runs on (machines keep their distribution's Node). The control plane
 * itself needs Node ≥ 22 (package.json `engines`, for wrangler); agent/install.sh checks this too.
 */
export const AGENT_NODE_MAJOR = 20;

// ws is CommonJS and calls require() for Node built-ins; in an ESM bundle esbuild's
// require shim throws unless a real `require` is in scope, so the banner provides one.
// The version check runs before any of the agent's code; exit 2 is "bad configuration".
const BANNER = [
  "#!/usr/bin/env node",
  'import { createRequire as __outpostCreateRequire } from "node:module";',
  "const require = __outpostCreateRequire(import.meta.url);",
  `if (Number(process.versions.node.split(".")[0]) < ${AGENT_NODE_MAJOR}) {`,
  `  process.stderr.write("outpost-agent needs Node.js >= ${AGENT_NODE_MAJOR} (this is " + process.version + ")\\n");`,
  "  process.exit(2);",
  "}",
].join("\n");

const WS_LIB = join(ROOT, "node_modules/ws/lib");

/**
 * Keeps ws from loading what a client agent never uses (issue 25, docs/agent-footprint.md):
 * - `ws` resolves to ws/lib/websocket.js (the client class, ws's default export), not ws/index.js,
 *   whose WebSocketServer the agent never uses; evaluating it cost ~4 MB of RSS on Node 20.
 * - In ws's own files, `https`, `tls` and `zlib` are required when first used instead of at import:
 *   https/tls only for a wss:// URL, zlib only with permessage-deflate (the agent turns it off).
 */
const LAZY_BUILTINS = ["https", "tls", "zlib"];
/**
 * node:crypto costs ~1.1 MB resident once loaded (issue 25): ws uses ./agent/light-crypto.ts, the
 * agent's modules import node:crypto through ./agent/lazy-crypto.ts, which loads it on first call.
 */
const LIGHT_CRYPTO = join(ROOT, "agent/light-crypto.ts");
/** Built-ins only one-off jobs use: an ESM bundle would load them at start-up (imports are hoisted). */
const LAZY_AGENT_BUILTINS = {
  "node:crypto": join(ROOT, "agent/lazy-crypto.ts"),
  "node:readline": join(ROOT, "agent/lazy-readline.ts"),
};
const leanWs = {
  name: "outpost-lean-ws",
  setup(b) {
    b.onResolve({ filter: /^ws$/ }, (args) =>
      args.importer.startsWith(join(ROOT, "agent")) ? { path: join(WS_LIB, "websocket.js") } : undefined,
    );
    // The agent's modules get node:crypto and node:readline through ./agent/lazy-*.ts (loaded on first call).
    b.onResolve({ filter: /^node:(crypto|readline)$/ }, (args) => {
      const lazy = LAZY_AGENT_BUILTINS[args.path];
      return args.importer.startsWith(join(ROOT, "agent")) && args.importer !== lazy
        ? { path: lazy }
        : undefined;
    });
    b.onLoad({ filter: /[\\/]node_modules[\\/]ws[\\/]lib[\\/][^\\/]+\.js$/ }, async (args) => {
      let contents = await readFile(args.path, "utf8");
      // The handshake's key and SHA-1 and the frames' masks: ./agent/light-crypto.ts, not node:crypto.
      contents = contents.replace("require('crypto')", `require(${JSON.stringify(LIGHT_CRYPTO)})`);
      for (const name of LAZY_BUILTINS) {
        contents = contents.replace(
          `const ${name} = require('${name}');`,
          `const ${name} = new Proxy({}, { get: (_, key) => require('${name}')[key] });`,
        );
      }
      return { contents, loader: "js" };
    });
  },
};

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

/** Release record the Worker serves; its presence means the default bundle was published. */
export const PUBLISHED_RELEASE = join(DEFAULT_PUBLISH_DIR, "release.json");

/** True when `outfile` (and its checksum, and for the default bundle its published release) are newer than every input. */
export async function isFresh(outfile = DEFAULT_OUTFILE) {
  let built;
  try {
    built = (await stat(outfile)).mtimeMs;
    await stat(`${outfile}.sha256`);
    if (outfile === DEFAULT_OUTFILE) built = Math.min(built, (await stat(PUBLISHED_RELEASE)).mtimeMs);
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
    target: `node${AGENT_NODE_MAJOR}`,
    format: "esm",
    banner: { js: BANNER },
    define: { __OUTPOST_AGENT_VERSION__: JSON.stringify(version) },
    // Optional native speed-ups that ws loads inside try/catch; absent at runtime is fine.
    external: ["bufferutil", "utf-8-validate"],
    plugins: [leanWs],
    logLevel: "warning",
    legalComments: "eof",
    // The bundle's text stays in the agent's heap for its whole life (V8 keeps a script's source
    // to compile functions lazily): no comments or indentation, short local names (keepNames, so
    // stack traces and `constructor.name` still name functions and classes: 307 → 233 KB), and
    // ASCII only, since one non-Latin-1 character makes V8 hold the whole source as a two-byte
    // string. 878 KB of heap before, see docs/agent-footprint.md.
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: true,
    keepNames: true,
    charset: "ascii",
  });
  const text = await readFile(outfile, "utf8");
  const wide = /[^\t\n\r\x20-\x7e]/.exec(text);
  if (wide)
    throw new Error(
      `the agent bundle has a non-ASCII character (${wide[0]}) at ${wide.index}: escape it in the source`,
    );
  await chmod(outfile, 0o755);
  const sha256 = createHash("sha256")
    .update(await readFile(outfile))
    .digest("hex");
  await writeFile(`${outfile}.sha256`, `${sha256}  ${outfile.split("/").pop()}\n`);
  return { outfile, version, sha256 };
}

/**
 * Copies a built bundle, its release record (`release.json`: version, sha256, size) and
 * agent/install.sh into `dir`, the Worker's asset folder for agent releases.
 * @param {{ outfile: string, version: string, sha256: string }} build
 * @param {string} [dir]
 */
export async function publishRelease(build, dir = DEFAULT_PUBLISH_DIR) {
  await mkdir(dir, { recursive: true });
  const bundle = await readFile(build.outfile);
  await writeFile(join(dir, "outpost-agent.mjs"), bundle);
  await writeFile(join(dir, "install.sh"), await readFile(join(ROOT, "agent/install.sh")));
  const release = {
    version: build.version,
    sha256: build.sha256,
    size_bytes: bundle.byteLength,
    built_at: new Date().toISOString(),
  };
  await writeFile(join(dir, "release.json"), `${JSON.stringify(release, null, 2)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({
    options: {
      "if-stale": { type: "boolean", default: false },
      version: { type: "string" },
      outfile: { type: "string" },
      publish: { type: "string" },
    },
  });
  const outfile = resolve(values.outfile ?? DEFAULT_OUTFILE);
  const publishDir = values.publish ?? (values.outfile ? undefined : DEFAULT_PUBLISH_DIR);
  if (values["if-stale"] && (await isFresh(outfile))) process.exit(0);
  try {
    const result = await buildAgent({ outfile, version: values.version });
    if (publishDir) await publishRelease(result, resolve(publishDir));
    console.error(`built ${result.outfile} (version ${result.version}, sha256 ${result.sha256})`);
  } catch (error) {
    console.error(`agent build failed: ${error?.message ?? error}`);
    process.exit(1);
  }
}
