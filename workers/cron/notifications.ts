import { loadConfig } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { pruneNotificationDeliveries } from "../../src/notification-channels/prune";
import { runNotifications } from "../services/notification-dispatch";
import type { CronJob } from "./types";

const DAY_MS = 86_400_000;

/** Every tick: alert events and repeats to notification channels, due deliveries, then old finished deliveries pruned. */
export const notificationsJob: CronJob = {
  name: "notifications",
  async run(env) {
    const result = await runNotifications(env);
    const config = loadConfig(env);
    const db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
    const pruned = await pruneNotificationDeliveries(
      db,
      Date.now() - config.webhookDeliveryRetentionDays * DAY_MS,
    );
    return { ...result, pruned };
  },
};
