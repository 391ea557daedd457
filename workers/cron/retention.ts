import { loadConfig } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { pruneOutbox } from "../../src/retention/prune";
import type { CronJob } from "./types";

const DAY_MS = 86_400_000;

/** Prunes old events, finished webhook deliveries and their attempts (`EVENT_RETENTION_DAYS`, `WEBHOOK_DELIVERY_RETENTION_DAYS`). */
export const pruneOutboxJob: CronJob = {
  name: "prune_outbox",
  async run(env) {
    const config = loadConfig(env);
    const now = Date.now();
    const db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
    return pruneOutbox(db, {
      eventsBefore: now - config.eventRetentionDays * DAY_MS,
      deliveriesBefore: now - config.webhookDeliveryRetentionDays * DAY_MS,
    });
  },
};
