import { loadConfig } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { advanceSelfUpdateRollouts, finishStaleSelfUpdateRequests } from "../services/self-update";
import type { CronJob } from "./types";

/** Finishes self-update requests whose background run was lost, and moves their rollouts on. */
export const selfUpdateRequestsJob: CronJob = {
  name: "self_update_requests",
  async run(env) {
    const config = loadConfig(env);
    const db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
    const finished = await finishStaleSelfUpdateRequests(env, db);
    return { ...finished, ...(await advanceSelfUpdateRollouts(env, db)) };
  },
};
