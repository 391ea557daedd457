import { loadConfig } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { finishStaleSelfUpdateRequests } from "../services/self-update";
import type { CronJob } from "./types";

/** Finishes self-update requests whose background run was lost. */
export const selfUpdateRequestsJob: CronJob = {
  name: "self_update_requests",
  run(env) {
    const config = loadConfig(env);
    return finishStaleSelfUpdateRequests(
      env,
      createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken }),
    );
  },
};
