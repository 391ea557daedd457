// The bundle file: find the running one, download and verify a new one, check its version,
// install it atomically (keeping `<bundle>.previous`) and put the previous one back.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmod, copyFile, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openRequest } from "../http-post";

/** Largest bundle the agent downloads. */
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 120_000;
const VERSION_CHECK_TIMEOUT_MS = 15_000;

/** A download the agent will not install: wrong checksum, too large, wrong version, HTTP error. */
export class UpdateRefused extends Error {}

/**
 * The bundle file this process runs, or null when it does not run from a bundle (tests,
 * `tsx agent/main.ts`): then there is nothing to replace.
 */
export function runningBundle(moduleUrl = import.meta.url): string | null {
  // Bundled, this module is the bundle itself (esbuild keeps import.meta.url); unbundled it is a .ts file.
  const self = fileURLToPath(moduleUrl);
  return self.endsWith(".mjs") ? self : null;
}

const tempBeside = (file: string, suffix: string) =>
  join(dirname(file), `.${basename(file, ".mjs")}.${randomBytes(6).toString("hex")}${suffix}`);

/**
 * Downloads `url` into a temp file beside `bundle` (same filesystem, so it can be renamed over
 * it), hashing as it goes. Returns the temp path; nothing is left behind on failure.
 * @throws UpdateRefused on an HTTP error, a body over `maxBytes` or a SHA-256 mismatch
 */
export async function downloadVerified(
  url: string,
  sha256: string,
  bundle: string,
  options: { timeoutMs?: number; maxBytes?: number } = {},
): Promise<string> {
  const maxBytes = options.maxBytes ?? MAX_BUNDLE_BYTES;
  // node:http, not fetch: undici would stay loaded (~15 MB) and needs WebAssembly (--lite-mode).
  const res = await openRequest(url, { timeoutMs: options.timeoutMs ?? DOWNLOAD_TIMEOUT_MS });
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    res.resume();
    throw new UpdateRefused(`download failed: HTTP ${status} from ${url}`);
  }
  if (Number(res.headers["content-length"] ?? 0) > maxBytes) {
    res.destroy();
    throw new UpdateRefused(`the bundle is larger than ${maxBytes} bytes`);
  }
  const temp = tempBeside(bundle, ".mjs");
  const handle = await open(temp, "wx", 0o600);
  const hash = createHash("sha256");
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new UpdateRefused(`the bundle is larger than ${maxBytes} bytes`);
      hash.update(chunk);
      await handle.write(chunk);
    }
    await handle.sync();
    await handle.close();
    const actual = hash.digest("hex");
    if (actual !== sha256.toLowerCase())
      throw new UpdateRefused(`checksum mismatch: expected sha256 ${sha256}, got ${actual}`);
    return temp;
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/**
 * Runs `<bundle> --version` and checks it prints `expected`, so a bundle that cannot even start
 * (or is another version than announced) is refused before it replaces anything.
 * @throws UpdateRefused
 */
export function checkBundleVersion(bundle: string, expected: string, node = process.execPath): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      node,
      [bundle, "--version"],
      { timeout: VERSION_CHECK_TIMEOUT_MS, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
      (error, stdout) => {
        const printed = String(stdout).trim();
        if (!error && printed === expected) return resolve();
        reject(
          new UpdateRefused(
            error
              ? `the new bundle does not start (${error.message.split("\n")[0]})`
              : `the new bundle reports version ${JSON.stringify(printed)}, expected ${expected}`,
          ),
        );
      },
    );
  });
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r").catch(() => null);
  await handle
    ?.sync()
    .catch(() => {})
    .finally(() => handle.close());
}

async function replaceWithCopy(source: string, target: string): Promise<void> {
  const temp = tempBeside(target, ".tmp");
  try {
    await copyFile(source, temp);
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/**
 * Puts `downloaded` in place of `bundle` atomically (rename in the same directory) with the
 * bundle's file mode, after copying the current bundle to `<bundle>.previous`.
 */
export async function installBundle(bundle: string, downloaded: string): Promise<void> {
  const mode = (await stat(bundle)).mode & 0o7777;
  await chmod(downloaded, mode);
  await replaceWithCopy(bundle, `${bundle}.previous`);
  await rename(downloaded, bundle);
  await syncDir(dirname(bundle));
}

/** Puts `<bundle>.previous` back in place (atomically; the `.previous` copy stays). */
export async function restorePrevious(bundle: string): Promise<void> {
  await replaceWithCopy(`${bundle}.previous`, bundle);
  await syncDir(dirname(bundle));
}
