// The web console's page and files, served by the Worker from its assets (workers/routes/console.ts;
// built into dist/public/console by the global setup): the page under every /console path, under the
// page CSP with only its hashed early-request script inline, its files with the headers and long-lived caching.
import { beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_INLINE_SCRIPT_HASHES } from "../../workers/routes/console";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`;
}

describe("/console", () => {
  for (const path of [
    "/console",
    "/console/",
    "/console/nodes/3b1c2d4e-0000-4000-8000-000000000000",
    "/console/run?tags=web",
  ]) {
    it(`${path}: the console page under the page CSP, only its hashed script inline, never cached`, async () => {
      const res = await api.fetch(path, { auth: null });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain(`script-src 'self' ${CONSOLE_INLINE_SCRIPT_HASHES.join(" ")};`);
      expect(csp).toContain("connect-src 'self';");
      expect(csp).toContain("default-src 'none';");
      const html = await res.text();
      expect(html).toContain('<div id="app">');
      // Each inline script is one the policy names by hash, and the policy names no other.
      const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)];
      expect(await Promise.all(inline.map(([, body]) => sha256(body)))).toEqual([
        ...CONSOLE_INLINE_SCRIPT_HASHES,
      ]);
      expect(html).not.toMatch(/<style/i);
      expect(html).not.toMatch(/\s(on\w+|style)\s*=/i);
    });
  }

  it("serves the page's script and stylesheet from this Worker, cached for good (their names carry a hash)", async () => {
    const html = await (await api.fetch("/console", { auth: null })).text();
    const urls = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(urls.some((u) => u.endsWith(".js"))).toBe(true);
    expect(urls.some((u) => u.endsWith(".css"))).toBe(true);
    for (const url of urls) {
      expect(url).toMatch(/^\/console\/assets\/[A-Za-z0-9._-]+$/);
      const res = await api.fetch(url, { auth: null });
      expect(res.status, url).toBe(200);
      expect(res.headers.get("cache-control"), url).toContain("immutable");
      expect(res.headers.get("x-content-type-options"), url).toBe("nosniff");
      expect(res.headers.get("content-security-policy"), url).toContain("default-src 'none'");
      if (url.endsWith(".js")) expect(res.headers.get("content-type"), url).toMatch(/javascript/);
      expect((await res.arrayBuffer()).byteLength, url).toBeGreaterThan(0);
    }
  });

  it("answers an unknown file with 404 in the envelope", async () => {
    for (const path of ["/console/assets/nothing-here.js", "/console/assets/..%2F..%2Fagent"]) {
      const res = await api.fetch(path, { auth: null });
      expect(res.status, path).toBe(404);
      expect((await res.json<any>()).error.code, path).toBe("not_found");
    }
  });
});
