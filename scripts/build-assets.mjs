#!/usr/bin/env node
// Everything the Worker serves from its static assets (wrangler.toml [assets] → dist/public/):
// the agent release (scripts/build-agent.mjs), Swagger UI (scripts/build-docs-assets.mjs) and the web
// console (scripts/build-console.mjs).
// `npm run deploy` runs this before `wrangler deploy`, so a fresh clone deploys complete.
import { buildAgent, publishRelease } from "./build-agent.mjs";
import { buildConsole } from "./build-console.mjs";
import { publishDocsAssets } from "./build-docs-assets.mjs";

try {
  const agent = await buildAgent();
  await publishRelease(agent);
  const docs = await publishDocsAssets();
  const web = await buildConsole();
  const kb = (web.jsGzipBytes / 1024).toFixed(1);
  console.error(
    `assets: agent ${agent.version} (sha256 ${agent.sha256}), Swagger UI ${docs.version}, console (${kb} KB gzipped JS)`,
  );
} catch (error) {
  console.error(`assets build failed: ${error?.message ?? error}`);
  process.exit(1);
}
