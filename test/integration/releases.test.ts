import { beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

describe("agent distribution", () => {
  it("publishes a release record whose checksum matches the served bundle", async () => {
    const res = await api.fetch("/agent/v1/releases/latest", { auth: null });
    expect(res.status).toBe(200);
    const release = (await res.json<any>()).data;
    expect(release.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(release.url).toBe("http://outpost.test/agent/v1/releases/latest/outpost-agent.mjs");
    const bundle = await api.fetch("/agent/v1/releases/latest/outpost-agent.mjs", { auth: null });
    expect(bundle.status).toBe(200);
    const bytes = await bundle.arrayBuffer();
    expect(bytes.byteLength).toBe(release.size_bytes);
    expect(await sha256Hex(bytes)).toBe(release.sha256);
    expect(new TextDecoder().decode(bytes.slice(0, 20))).toBe("#!/usr/bin/env node\n");
  });

  it("serves install.sh with this server's public origin filled in", async () => {
    const res = await api.fetch("/install.sh", { auth: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/x-shellscript");
    const script = await res.text();
    expect(script.startsWith("#!/bin/sh")).toBe(true);
    expect(script).toContain("DEFAULT_SERVER='http://outpost.test'");
    expect(script).not.toContain("@@OUTPOST_SERVER@@");
    const custom = await createTestApi({ PUBLIC_API_URL: "https://fleet.example.com" });
    expect(await (await custom.fetch("/install.sh", { auth: null })).text()).toContain(
      "DEFAULT_SERVER='https://fleet.example.com'",
    );
  });
});
