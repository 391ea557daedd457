// Which releases the agent installs (review L5): https only (plain http to loopback), and no
// downgrade unless the request said allow_downgrade; a refusal is reported, nothing is downloaded.
import { readdir, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Logger } from "../../../agent/log";
import { SelfUpdater } from "../../../agent/self-update";
import { compareVersions, releaseRefusal } from "../../../agent/self-update/policy";
import { tempDir } from "./helpers";

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe("compareVersions", () => {
  it.each([
    ["1.10.0", "1.9.3", 1],
    ["1.0.0", "1.0.0", 0],
    ["1.0", "1.0.0", 0],
    ["2.0.0-rc.1", "2.0.0", -1],
    ["2.0.0-rc.10", "2.0.0-rc.9", 1],
    ["2.0.0-alpha", "2.0.0-1", 1],
    ["1.0.0+build.9", "1.0.0+build.1", 0],
    ["v3.0.0", "2.9.9", 1],
  ])("%s vs %s is %d", (a, b, order) => {
    expect(compareVersions(a, b)).toBe(order);
  });

  it("is null for something that is not a version", () => {
    expect(compareVersions("latest", "1.0.0")).toBeNull();
  });
});

describe("releaseRefusal", () => {
  const https = "https://downloads.example.com/a.mjs";
  it("refuses a downgrade unless allowed, and an unorderable version", () => {
    expect(releaseRefusal({ version: "1.9.0", url: https }, "2.0.0")).toMatch(
      /refusing to downgrade from 2\.0\.0 to 1\.9\.0.*allow_downgrade: true/,
    );
    expect(releaseRefusal({ version: "1.9.0", url: https, allow_downgrade: true }, "2.0.0")).toBeNull();
    expect(releaseRefusal({ version: "2.0.1", url: https }, "2.0.0")).toBeNull();
    expect(releaseRefusal({ version: "nightly", url: https }, "2.0.0")).toMatch(/cannot tell which is newer/);
  });

  it("refuses plain http to another machine, even with allow_downgrade", () => {
    for (const url of [
      "http://downloads.example.com/a.mjs",
      "http://127.0.0.1.nip.io/a.mjs",
      "ftp://x/a.mjs",
    ]) {
      expect(releaseRefusal({ version: "3.0.0", url, allow_downgrade: true }, "2.0.0"), url).toMatch(
        /refusing release URL/,
      );
    }
    expect(releaseRefusal({ version: "3.0.0", url: "http://127.0.0.1:8787/a.mjs" }, "2.0.0")).toBeNull();
  });
});

describe("SelfUpdater and a downgrade", () => {
  it("reports the refusal and downloads nothing", async () => {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? "");
      res.end("bundle");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const dir = await tempDir();
    const bundle = join(dir, "outpost-agent.mjs");
    await writeFile(bundle, "version two");
    const sent: { type: string; message?: string }[] = [];
    let restarts = 0;
    const updater = new SelfUpdater({
      stateDir: await tempDir(),
      bundle,
      version: "2.0.0",
      settings: { timeoutMs: 60_000, reportMs: 60_000 },
      log: silent,
      send: (frame) => {
        sent.push(frame as { type: string; message?: string });
        return true;
      },
      requestRestart: () => {
        restarts++;
      },
      checkVersion: async () => {},
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/1.mjs`;
    await updater.handle({ v: 1, type: "self_update", version: "1.0.0", url, sha256: "a".repeat(64) });
    expect(restarts).toBe(0);
    expect(requests).toEqual([]);
    expect(sent).toEqual([
      { type: "error", code: "self_update_failed", message: expect.stringMatching(/refusing to downgrade/) },
    ]);
    expect(await readdir(dir)).toEqual(["outpost-agent.mjs"]);
  });
});
