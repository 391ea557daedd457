// Runs one module Worker with SQLite-backed Durable Objects on the workerd that `wrangler dev`
// runs (Miniflare from node_modules), its state in a temp dir under `root`: the experiments' stack.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

/**
 * @param {{ name: string, script: string, classes: Record<string, string>, root?: string }} options
 *   `classes`: binding name → exported class name.
 * @returns {Promise<{ url: URL, stop(): Promise<void> }>}
 */
export async function startWorkerdScript({ name, script, classes, root = tmpdir() }) {
  const dir = mkdtempSync(join(root, `${name}-`));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      defaultPersistRoot: dir,
      workers: [
        {
          name,
          modules: true,
          script,
          compatibilityDate: "2026-10-01",
          durableObjects: Object.fromEntries(
            Object.entries(classes).map(([binding, className]) => [binding, { className, useSQLite: true }]),
          ),
        },
      ],
    }),
  );
  const stop = async () => {
    await mf.dispose();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    return { url: new URL(await mf.ready), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
