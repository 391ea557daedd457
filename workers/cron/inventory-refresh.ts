import { loadConfig } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { advanceFleetRefreshes } from "../services/inventory-refresh";
import type { CronJob } from "./types";

/** Asks the next batch of every fleet inventory refresh too large to ask in its creating request. */
export const inventoryRefreshRequestsJob: CronJob = {
  name: "inventory_refresh_requests",
  run(env) {
    const config = loadConfig(env);
    return advanceFleetRefreshes(
      env,
      createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken }),
    );
  },
};
