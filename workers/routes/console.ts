import type { Hono } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "../middleware/request-context";

// The web console (web/, built by scripts/build-console.mjs into dist/public/console): a single page
// whose client-side router owns every path below /console, so each of them answers the page itself.
// It calls only the public API from this origin; the page CSP (same-origin scripts, no inline code)
// covers it unchanged.
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

async function page(env: AppEnv["Bindings"]): Promise<Response> {
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
  app.get("/console", (c) => page(c.env));
  app.get("/console/*", (c) => page(c.env));
}
