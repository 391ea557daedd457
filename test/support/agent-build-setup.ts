import { buildAgent, isFresh, publishRelease } from "../../scripts/build-agent.mjs";

/** Builds and publishes the agent bundle (when stale) before workerd starts: the Worker serves it from its assets. */
export default async function setup() {
  if (!(await isFresh())) await publishRelease(await buildAgent());
}
