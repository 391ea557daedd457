import { buildAgent, isFresh, publishRelease } from "../../scripts/build-agent.mjs";
import { buildConsole } from "../../scripts/build-console.mjs";
import { publishDocsAssets } from "../../scripts/build-docs-assets.mjs";

/**
 * Builds and publishes the agent bundle (when stale), Swagger UI and the web console (when stale)
 * before workerd starts: the Worker serves them from its assets.
 */
export default async function setup() {
  // scripts/test.mjs built them once before starting the Vitest processes that share them.
  if (process.env.OUTPOST_TEST_ASSETS_BUILT === "1") return;
  if (!(await isFresh())) await publishRelease(await buildAgent());
  await publishDocsAssets();
  await buildConsole();
}
