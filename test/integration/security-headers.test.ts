// Security headers on the Worker's pages, static assets and JSON (workers/middleware/security-headers.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});

/** The directives of a CSP header: name → sources. */
function directives(csp: string | null): Map<string, string[]> {
  expect(csp, "Content-Security-Policy").toBeTruthy();
  return new Map(
    csp!
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...sources]) => [name, sources]),
  );
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`;
}

const PAGES = ["/swaggerui", "/asyncdoc"];

describe("HTML pages", () => {
  for (const path of PAGES) {
    it(`${path}: same-origin scripts and styles only, no framing, no referrer, nosniff`, async () => {
      const res = await api.fetch(path, { auth: null });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      const csp = directives(res.headers.get("content-security-policy"));
      expect(csp.get("default-src")).toEqual(["'none'"]);
      expect(csp.get("script-src")).toEqual(["'self'"]);
      expect(csp.get("style-src")?.[0]).toBe("'self'");
      expect(
        csp
          .get("style-src")!
          .slice(1)
          .every((s) => s.startsWith("'sha256-")),
      ).toBe(true);
      expect(csp.get("connect-src")).toEqual(["'self'"]);
      expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
      for (const sources of csp.values()) {
        for (const s of sources) expect(s).toMatch(/^('self'|'none'|data:|'sha256-[A-Za-z0-9+/=]+')$/);
      }
      await res.arrayBuffer();
    });

    it(`${path}: every inline block is allowed by hash, and nothing else is inline`, async () => {
      const res = await api.fetch(path, { auth: null });
      const html = await res.text();
      const csp = directives(res.headers.get("content-security-policy"));
      // Inline scripts would need a hash in script-src; there is none, so there must be none.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
      expect(html).not.toMatch(/\s(on\w+|style)\s*=/i);
      for (const [, body] of html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/gi)) {
        expect(csp.get("style-src"), `inline <style> of ${path}`).toContain(await sha256(body));
      }
      // Scripts and stylesheets come from this origin (relative URLs).
      for (const [, url] of html.matchAll(/<(?:script|link)[^>]*\b(?:src|href)="([^"]+)"/gi)) {
        expect(url, `${path} loads ${url}`).toMatch(/^\/(?!\/)/);
      }
    });
  }
});

describe("Swagger UI assets", () => {
  it("serves the bundle, stylesheet and initializer from this Worker, with the headers", async () => {
    const page = await (await api.fetch("/swaggerui", { auth: null })).text();
    const urls = [...page.matchAll(/\b(?:src|href)="(\/swaggerui\/[^"]+)"/g)].map((m) => m[1]);
    expect(urls).toEqual(
      expect.arrayContaining(["/swaggerui/swagger-ui-bundle.js", "/swaggerui/swagger-ui.css"]),
    );
    for (const url of urls) {
      const res = await api.fetch(url, { auth: null });
      expect(res.status, url).toBe(200);
      expect(res.headers.get("x-content-type-options"), url).toBe("nosniff");
      expect(res.headers.get("referrer-policy"), url).toBe("no-referrer");
      expect(res.headers.get("content-security-policy"), url).toContain("default-src 'none'");
      const type = res.headers.get("content-type") ?? "";
      if (url.endsWith(".js")) expect(type, url).toMatch(/^(text|application)\/javascript/);
      if (url.endsWith(".css")) expect(type, url).toMatch(/^text\/css/);
      expect((await res.arrayBuffer()).byteLength, url).toBeGreaterThan(0);
    }
  });

  it("the initializer points at this server's document and never at a third party", async () => {
    const js = await (await api.fetch("/swaggerui/swagger-initializer.js", { auth: null })).text();
    expect(js).toContain('"/api/v1/openapi.json"');
    expect(js).toMatch(/validatorUrl:\s*null/);
    expect(js).not.toMatch(/https?:\/\//);
  });

  it("answers an unknown asset with 404 in the envelope, with the headers", async () => {
    const res = await api.fetch("/swaggerui/nothing-here.js", { auth: null });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect((await res.json<any>()).error.code).toBe("not_found");
  });
});

describe("JSON API", () => {
  it("sends nosniff and a policy that runs nothing, on success and on error", async () => {
    for (const [path, auth, status] of [
      ["/api/v1/clusters", undefined, 200],
      ["/api/v1/clusters", null, 401],
      ["/api/v1/openapi.json", null, 200],
      ["/health", null, 200],
    ] as const) {
      const res = await api.fetch(path, { auth });
      expect(res.status, path).toBe(status);
      expect(res.headers.get("content-type"), path).toMatch(/^application\/json/);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(res.headers.get("content-security-policy"), path).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
      await res.arrayBuffer();
    }
  });
});
