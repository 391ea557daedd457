import type { DispatchMessage, Env } from "../src/config";
import { createLogger } from "../src/log";
import { registerPromptNotifications } from "../src/notification-channels/prompt";
import { createApp } from "./app";
import { runCronTick } from "./cron";
import { consumeDispatchBatch } from "./services/dispatch";
import { runNotificationsSoon } from "./services/notification-dispatch";

export { BatchWriter } from "../durable-objects/batch-writer";
export { NodeSession } from "../durable-objects/node-session";

const app = createApp();
// Sessions that record an alert send its notifications at once (they cannot import the Worker).
registerPromptNotifications(runNotificationsSoon);

export default {
  fetch: app.fetch,
  async scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    ctx.waitUntil(runCronTick(env, createLogger({ fields: { cron: controller.cron } })));
  },
  async queue(batch: MessageBatch<DispatchMessage>, env: Env) {
    await consumeDispatchBatch(batch, env);
  },
} satisfies ExportedHandler<Env, DispatchMessage>;
