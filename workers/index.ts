import { createApp } from "./app";
import { runCronTick } from "./cron";
import type { Env } from "./env";

export { NodeSession } from "../durable-objects/node-session";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    ctx.waitUntil(runCronTick(env));
  },
} satisfies ExportedHandler<Env>;
