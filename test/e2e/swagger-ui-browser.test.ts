// /swaggerui in a real Chromium (Debian's, driven by playwright-core) against a real stack, with every
// request outside the stack's own origin blocked: the docs must work offline, load nothing from a third
// party (an operator types the API key into this page), and run under the page's CSP without errors.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, sharedStack } from "../support/stack";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
// CI installs chromium (.ci/run): there a missing browser is a failure, never a silent skip.
if (!available && process.env.CI)
  throw new Error(`${CHROMIUM} not found: CI must install it (apt-get install -y chromium)`);
if (!available) console.warn(`skipping the Swagger UI browser test: ${CHROMIUM} not found (not CI)`);

// TOOLCHAIN.md: the flags that run Debian's chromium headless here, with its own network chatter off.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

describe.skipIf(!available)("Swagger UI in Chromium, offline", () => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await sharedStack();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("lists the operations, with no console error and no request leaving the local origin", async () => {
    const context = await browser.newContext();
    const origin = new URL(stack.url).origin;
    const blocked: string[] = [];
    const requested: string[] = [];
    const problems: string[] = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      blocked.push(url);
      return route.abort("blockedbyclient");
    });
    const page = await context.newPage();
    page.on("request", (req) => requested.push(req.url()));
    // Static assets too: wrangler.toml's run_worker_first sends them through the headers middleware.
    const withoutHeaders: string[] = [];
    page.on("response", (r) => {
      if (r.url().startsWith(`${origin}/`) && r.headers()["x-content-type-options"] !== "nosniff")
        withoutHeaders.push(r.url());
    });
    page.on("console", (msg) => {
      if (msg.type() === "error" || msg.type() === "warning")
        problems.push(`console.${msg.type()}: ${msg.text()}`);
    });
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("requestfailed", (req) => problems.push(`failed: ${req.url()} ${req.failure()?.errorText}`));

    const res = await page.goto(`${stack.url}/swaggerui`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-security-policy"]).toContain("script-src 'self'");
    // Tag sections and operation summaries come from /api/v1/openapi.json, rendered by the bundle.
    await page.getByText("List all clusters").first().waitFor({ timeout: 30_000 });
    await expect(
      page.locator(".opblock-summary-path", { hasText: "/api/v1/clusters" }).count(),
    ).resolves.toBeGreaterThan(0);
    // Swagger UI virtualises its operation list once a document has this many operations: only the
    // blocks near the viewport are in the DOM. Scroll through the page half a screen at a time and
    // collect every block that was rendered; all of the served document's operations must appear.
    const doc = (await (await fetch(`${stack.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const methods = new Set(["get", "post", "put", "patch", "delete"]);
    const operationCount = Object.values(doc.paths).flatMap((ops) =>
      Object.keys(ops).filter((m) => methods.has(m)),
    ).length;
    // One evaluate for the whole walk: a round trip per step made it take ~25 s on a loaded machine.
    const rendered = await page.evaluate(async (wanted) => {
      const ids = new Set<string>();
      const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      for (let step = 0; step < 2_000 && ids.size < wanted; step++) {
        for (const el of document.querySelectorAll(".opblock")) ids.add(el.id);
        if (window.innerHeight + window.scrollY >= document.body.scrollHeight - 2) break;
        window.scrollBy(0, window.innerHeight / 2);
        await frame();
      }
      for (const el of document.querySelectorAll(".opblock")) ids.add(el.id);
      return [...ids];
    }, operationCount);
    expect(operationCount).toBeGreaterThan(100);
    expect(new Set(rendered).size).toBe(operationCount);
    await page.waitForLoadState("networkidle");

    expect(blocked).toEqual([]);
    expect(requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith("data:"))).toEqual([]);
    expect(requested).toContain(`${origin}/api/v1/openapi.json`);
    expect(problems).toEqual([]);
    expect(withoutHeaders).toEqual([]);
    await context.close();
  });

  it("/asyncdoc renders with its hashed inline style and no CSP error", async () => {
    const page = await browser.newPage();
    // The page names no icon, so Chromium asks for /favicon.ico, which the API answers 404 (a console
    // error that says nothing about the CSP): answer that one request in the browser.
    await page.route("**/favicon.ico", (route) => route.fulfill({ status: 204 }));
    const problems: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() === "error" || msg.type() === "warning")
        problems.push(`console.${msg.type()}: ${msg.text()}`);
    });
    const res = await page.goto(`${stack.url}/asyncdoc`);
    expect(res?.status()).toBe(200);
    await page.getByText("Outpost webhook events").first().waitFor();
    // The page's <style> sets max-width: 60rem on body; a blocked style would leave it "none".
    expect(await page.evaluate("getComputedStyle(document.body).maxWidth")).toBe("960px");
    expect(problems).toEqual([]);
    await page.close();
  });
});
