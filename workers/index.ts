import { createApp } from "./app";
import { runCronTick } from "./cron";
import type { Env } from "./env";
import { consumeDispatchBatch, type DispatchMessage } from "./services/dispatch";

export { BatchWriter } from "../durable-objects/batch-writer";
export { NodeSession } from "../durable-objects/node-session";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    ctx.waitUntil(runCronTick(env));
  },
  async queue(batch: MessageBatch<DispatchMessage>, env: Env) {
    await consumeDispatchBatch(batch, env);
  },
} satisfies ExportedHandler<Env, DispatchMessage>;
