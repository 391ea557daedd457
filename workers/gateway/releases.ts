import type { Hono } from "hono";
import * as v from "valibot";
import { ApiError } from "../errors";
import type { AppContext, AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { publicOrigin, shellSingleQuoted } from "../public-origin";

const ReleaseSchema = v.object({
  version: v.string(),
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  size_bytes: v.number(),
  url: v.string(),
  install_script_url: v.string(),
});

async function asset(c: AppContext, path: string): Promise<Response> {
  if (!c.env.ASSETS)
    throw new ApiError("service_unavailable", "Agent releases are not available (no ASSETS binding)");
  const res = await c.env.ASSETS.fetch(new Request(new URL(path, "https://assets.local")));
  if (!res.ok)
    throw new ApiError("service_unavailable", "No agent release is built; run `npm run agent:build`");
  return res;
}

/** The current agent release record (built into the Worker's assets by `npm run agent:build`). */
export async function latestRelease(c: AppContext) {
  const record = (await (await asset(c, "/agent/release.json")).json()) as {
    version: string;
    sha256: string;
    size_bytes: number;
  };
  const origin = publicOrigin(c);
  return {
    version: record.version,
    sha256: record.sha256,
    size_bytes: record.size_bytes,
    url: `${origin}/agent/v1/releases/latest/outpost-agent.mjs`,
    install_script_url: `${origin}/install.sh`,
  };
}

/** Registers the public agent distribution routes: release record, bundle and install script. */
export function registerReleaseRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/agent/v1/releases/latest",
      tag: "Agent",
      public: true,
      summary: "The current agent release",
      description: "Version, SHA-256 and download URL of the agent bundle this server distributes.",
      success: { status: 200, description: "Release record", data: ReleaseSchema },
      errors: [503],
    },
    async (c) => ({ data: await latestRelease(c) }),
  );

  app.get("/agent/v1/releases/latest/outpost-agent.mjs", async (c) => {
    const res = await asset(c, "/agent/outpost-agent.mjs");
    return new Response(res.body, {
      headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" },
    });
  });

  // curl -fsSL https://outpost.example.com/install.sh | sudo ENROLLMENT_KEY=… sh
  // curl -fsSL https://outpost.example.com/uninstall.sh | sudo sh -s -- --purge
  // One script; the served copy carries this server's origin and which of the two it does.
  for (const action of ["install", "uninstall"] as const) {
    app.get(`/${action}.sh`, async (c) => {
      const script = await (await asset(c, "/agent/install.sh")).text();
      const served = script
        .replaceAll("@@OUTPOST_SERVER@@", shellSingleQuoted(publicOrigin(c)))
        .replaceAll("@@OUTPOST_ACTION@@", action);
      return new Response(served, {
        headers: { "content-type": "text/x-shellscript; charset=utf-8", "cache-control": "no-cache" },
      });
    });
  }
}
