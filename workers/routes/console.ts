import type { Context, Hono } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "../middleware/request-context";

// The web console (web/, built by scripts/build-console.mjs into dist/public/console): a single page
// whose client-side router owns every path below /console, so each of them answers the page itself.
// It calls only the public API from this origin, under the page CSP (same-origin scripts and styles)
// plus one inline script allowed by its hash.
const ASSET = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ORIGIN = "https://assets.local";

async function fromAssets(env: AppEnv["Bindings"], path: string): Promise<Response> {
  if (!env.ASSETS)
    throw new ApiError("service_unavailable", "The console is not available (no ASSETS binding)");
  const res = await env.ASSETS.fetch(new Request(new URL(path, ORIGIN)));
  if (res.status === 404) {
    await res.body?.cancel();
    throw new ApiError("not_found", `No console file ${path}; run \`npm run assets:build\``);
  }
  return res;
}

/**
 * SHA-256 (CSP source form) of the console page's one inline script, web/index.html's early nodes
 * request (it starts the fleet page's request while the page is parsed). The console page's CSP
 * allows it and nothing else inline; test/integration/console.test.ts hashes the served page's inline
 * scripts and fails when this list is stale.
 */
export const CONSOLE_INLINE_SCRIPT_HASHES: readonly string[] = [
  "'sha256-TCmJ+IICKHQEVkrT/UYy8C84n9stPz/KR4qu0bEdpNg='",
];

async function page(c: Context<AppEnv>): Promise<Response> {
  c.set("inlineScriptHashes", CONSOLE_INLINE_SCRIPT_HASHES);
  const env = c.env;
  const res = await fromAssets(env, "/console/");
  const headers = new Headers(res.headers);
  // The page names content-hashed files: always ask again for it, never for them.
  headers.set("Cache-Control", "no-cache");
  return new Response(res.body, { status: res.status, headers });
}

/** Serves the console page at /console and /console/*, and its built files at /console/assets/<file>. */
export function registerConsoleRoutes(app: Hono<AppEnv>): void {
  app.get("/console/assets/:file", async (c) => {
    const file = c.req.param("file");
    if (!ASSET.test(file)) throw new ApiError("not_found", `No console file ${file}`);
    const res = await fromAssets(c.env, `/console/assets/${file}`);
    const headers = new Headers(res.headers);
    headers.set("Cache-Control", "public, max-age=31536000, immutable");
    return new Response(res.body, { status: res.status, headers });
  });
  app.get("/console", (c) => page(c));
  app.get("/console/*", (c) => page(c));
}
