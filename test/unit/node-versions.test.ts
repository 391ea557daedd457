// One Node.js version per side, stated consistently: the control plane (wrangler) needs ≥ 22, the agent
// runs on ≥ 20 (AGENT_NODE_MAJOR), and its bundle and installer refuse anything older.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_NODE_MAJOR, buildAgent } from "../../scripts/build-agent.mjs";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

describe("Node.js versions", () => {
  let dir: string;
  let bundle: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "outpost-node-versions-"));
    bundle = (await buildAgent({ outfile: join(dir, "outpost-agent.mjs") })).outfile;
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("package.json engines: Node >= 22 for the control plane; the agent's minimum is 20", () => {
    expect(JSON.parse(read("package.json")).engines).toEqual({ node: ">=22" });
    expect(AGENT_NODE_MAJOR).toBe(20);
  });

  it("install.sh and the README say the same", () => {
    expect(read("agent/install.sh")).toContain(`[ "$NODE_MAJOR" -ge ${AGENT_NODE_MAJOR} ]`);
    const readme = read("README.md");
    expect(readme).toContain(`Node ≥ ${AGENT_NODE_MAJOR}`);
    expect(readme).toContain("Node ≥ 22");
  });

  it("the agent bundle runs on this Node and refuses an older one with exit 2", async () => {
    const ok = spawnSync(process.execPath, [bundle, "--version"], { encoding: "utf8" });
    expect(ok.status, ok.stderr).toBe(0);
    // Pretend to be Node 18 before the bundle is evaluated.
    const preload = join(dir, "old-node.mjs");
    await writeFile(
      preload,
      'Object.defineProperty(process, "versions", { value: { ...process.versions, node: "18.20.0" } });\n',
    );
    const old = spawnSync(process.execPath, ["--import", preload, bundle, "--version"], { encoding: "utf8" });
    expect(old.status).toBe(2);
    expect(old.stderr).toContain(`outpost-agent needs Node.js >= ${AGENT_NODE_MAJOR}`);
  });
});
