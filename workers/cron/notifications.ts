import { runNotifications } from "../services/notification-dispatch";
import type { CronJob } from "./types";

/** Every tick: alert events and repeats to notification channels, then due deliveries. */
export const notificationsJob: CronJob = {
  name: "notifications",
  run: (env) => runNotifications(env),
};
