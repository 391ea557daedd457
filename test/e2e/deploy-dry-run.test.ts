// `npm run deploy -- --dry-run` from a checkout that has never been built (no dist/): the deploy script
// must build the agent release and Swagger UI into the Worker's assets before `wrangler deploy`, which
// then bundles the Worker exactly as a deploy would, without an account, and offline (its own network
// namespace with no interface up, where `unshare` is allowed).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { cp, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/stack";

/**
 * The checkout's files as a fresh clone has them (tracked, plus new files not ignored; so never dist/
 * or .wrangler/), else the folders a deploy needs.
 */
function checkoutFiles(): string[] {
  const git = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (git.status === 0 && git.stdout)
    return git.stdout.split("\0").filter((f) => f && existsSync(join(ROOT, f)));
  return [
    "package.json",
    "wrangler.toml",
    "tsconfig.json",
    "workers",
    "src",
    "durable-objects",
    "agent",
    "scripts",
  ];
}

const offline = spawnSync("unshare", ["--net", "true"]).status === 0;
if (!offline && process.env.CI)
  throw new Error("`unshare --net` is not allowed here: the dry run cannot be shown offline");

function run(
  cmd: string,
  args: string[],
  cwd: string,
  logs: string,
): Promise<{ code: number | null; output: string }> {
  const [file, argv] = offline ? ["unshare", ["--net", cmd, ...args]] : [cmd, args];
  return new Promise((res, rej) => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_LOG_PATH: logs,
      // Without a network namespace, a dead proxy is the next best proof that nothing is fetched.
      ...(offline ? {} : { HTTPS_PROXY: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9" }),
    };
    delete env.CLOUDFLARE_API_TOKEN;
    delete env.CLOUDFLARE_ACCOUNT_ID;
    const child = spawn(file, argv, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    child.on("error", rej);
    child.on("exit", (code) => res({ code, output }));
  });
}

describe("npm run deploy -- --dry-run from a fresh checkout", () => {
  let checkout: string;

  beforeAll(async () => {
    checkout = await mkdtemp(join(tmpdir(), "outpost-deploy-"));
    for (const entry of checkoutFiles())
      await cp(join(ROOT, entry), join(checkout, entry), { recursive: true });
    await symlink(join(ROOT, "node_modules"), join(checkout, "node_modules"));
  });

  afterAll(async () => {
    if (checkout) await rm(checkout, { recursive: true, force: true });
  });

  it("wrangler alone refuses it: the assets directory does not exist yet", async () => {
    expect(existsSync(join(checkout, "dist"))).toBe(false);
    const node = join(ROOT, "node_modules/.bin/node");
    const wrangler = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
    const { code, output } = await run(
      existsSync(node) ? node : process.execPath,
      [wrangler, "deploy", "--dry-run", "--outdir", join(checkout, "out-bare")],
      checkout,
      join(checkout, "logs"),
    );
    expect(code, output).not.toBe(0);
    expect(output).toMatch(/"assets\.directory" field .* does not exist/);
  });

  it("builds the agent, Swagger UI and the console into dist/public, then bundles the Worker", async () => {
    const outdir = join(checkout, "out");
    const { code, output } = await run(
      "npm",
      ["run", "deploy", "--", "--dry-run", "--outdir", outdir],
      checkout,
      join(checkout, "logs"),
    );
    expect(code, output).toBe(0);
    expect(output).toMatch(/--dry-run: exiting now/);
    expect(statSync(join(outdir, "index.js")).size).toBeGreaterThan(10_000);
    const release = JSON.parse(readFileSync(join(checkout, "dist/public/agent/release.json"), "utf8"));
    expect(release.version).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
    for (const file of [
      "agent/outpost-agent.mjs",
      "agent/install.sh",
      "swaggerui/swagger-ui-bundle.js",
      "swaggerui/swagger-ui.css",
      "swaggerui/swagger-initializer.js",
      "console/index.html",
    ]) {
      expect(existsSync(join(checkout, "dist/public", file)), file).toBe(true);
    }
    // The Worker no longer pulls Swagger UI from a CDN.
    expect(readFileSync(join(outdir, "index.js"), "utf8")).not.toMatch(/cdn\.jsdelivr|unpkg\.com/);
  });
});
