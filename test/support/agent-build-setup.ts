import { buildAgent, isFresh, publishRelease } from "../../scripts/build-agent.mjs";
import { publishDocsAssets } from "../../scripts/build-docs-assets.mjs";

/**
 * Builds and publishes the agent bundle (when stale) and Swagger UI before workerd starts: the Worker
 * serves both from its assets.
 */
export default async function setup() {
  if (!(await isFresh())) await publishRelease(await buildAgent());
  await publishDocsAssets();
}
