import { runWebhookDispatch } from "../services/webhook-dispatch";
import type { CronJob } from "./types";

/** Every tick: fan out new outbox events (including those the NodeSession DOs wrote) and attempt due deliveries. */
export const webhooksJob: CronJob = {
  name: "webhooks",
  run: (env) => runWebhookDispatch(env),
};
