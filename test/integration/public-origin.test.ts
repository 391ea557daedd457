// The origin handed to agents (install.sh, release URLs, key blobs) never comes from a Host header
// a shell could execute (review L1): PUBLIC_API_URL when set (validated at boot), else the request's
// origin only when it is a plain host name; install.sh single-quotes it either way.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../workers/index";
import { shellSingleQuoted } from "../../workers/public-origin";
import { API_KEY, createTestApi, type TestApi } from "./harness";

/** The WHATWG URL parser keeps these in a host name, so a spoofed Host reaches `c.req.url` as is. */
const EVIL_HOSTS = [
  "a$(id)b.example.com",
  "a`id`b.example.com",
  "a;id;b.example.com",
  "a'b.example.com",
  "a&b.com",
];

let plain: TestApi;
let pinned: TestApi;
beforeAll(async () => {
  plain = await createTestApi();
  pinned = await createTestApi({ PUBLIC_API_URL: "https://fleet.example.com/" });
  for (const api of [plain, pinned]) await api.post("/api/v1/clusters", { name: "edge" });
});

/** A request as it arrives with `host` in its URL (what the Worker sees for a spoofed Host header). */
async function viaHost(api: TestApi, host: string, path: string, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://${host}${path}`, init), api.env, ctx);
  await waitOnExecutionContext(ctx);
  return { status: res.status, text: await res.text() };
}

const createKey = {
  method: "POST",
  headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
  body: "{}",
};

describe("a Host header with shell metacharacters", () => {
  it.each(EVIL_HOSTS)(
    "%s is refused with 400 on install.sh, the release record and key creation",
    async (host) => {
      expect(new URL(`http://${host}/`).hostname).toBe(host.toLowerCase());
      for (const [path, init] of [
        ["/install.sh", {}],
        ["/agent/v1/releases/latest", {}],
        ["/api/v1/clusters/edge/enrollment_keys", createKey],
      ] as const) {
        const res = await viaHost(plain, host, path, init);
        expect(res.status, path).toBe(400);
        expect(JSON.parse(res.text).error.message, path).toMatch(/set PUBLIC_API_URL/);
        expect(res.text).not.toContain(host);
      }
      const keys = await plain.get("/api/v1/enrollment_keys");
      expect(keys.body.data).toEqual([]);
    },
  );

  it("never reaches the script or a key blob when PUBLIC_API_URL is set", async () => {
    const script = await viaHost(pinned, "a$(id)b.example.com", "/install.sh");
    expect(script.status).toBe(200);
    expect(script.text).toContain("DEFAULT_SERVER='https://fleet.example.com'");
    expect(script.text).not.toContain("$(id)");
    const key = await viaHost(
      pinned,
      "a$(id)b.example.com",
      "/api/v1/clusters/edge/enrollment_keys",
      createKey,
    );
    expect(key.status).toBe(201);
    const blob = JSON.parse(atob(JSON.parse(key.text).data.key));
    expect(blob.server).toBe("https://fleet.example.com");
    const release = JSON.parse(
      (await viaHost(pinned, "a$(id)b.example.com", "/agent/v1/releases/latest")).text,
    );
    expect(release.data.url).toBe("https://fleet.example.com/agent/v1/releases/latest/outpost-agent.mjs");
  });

  it("a plain request origin is still used when PUBLIC_API_URL is unset, single-quoted", async () => {
    const res = await viaHost(plain, "outpost.example.com:8443", "/install.sh");
    expect(res.status).toBe(200);
    expect(res.text).toContain("DEFAULT_SERVER='http://outpost.example.com:8443'");
  });
});

describe("PUBLIC_API_URL", () => {
  it.each([
    "https://fleet.example.com/path",
    "https://a$(id).example.com",
    "ftp://fleet.example.com",
    "fleet.example.com",
  ])("%s stops the Worker with a 500 naming the setting", async (value) => {
    const bad = await createTestApi({ PUBLIC_API_URL: value });
    const res = await bad.fetch("/health", { auth: null });
    expect(res.status).toBe(500);
    const body = await res.json<any>();
    expect(body.error.code).toBe("internal_error");
    expect(body.error.message).toMatch(/^Server misconfigured: PUBLIC_API_URL must be an origin/);
    expect(body.error.message).not.toContain(value);
  });

  it("quotes a single quote so the shell never leaves the string", () => {
    expect(`X='${shellSingleQuoted("a'$(id)'b")}'`).toBe(`X='a'\\''$(id)'\\''b'`);
  });
});
