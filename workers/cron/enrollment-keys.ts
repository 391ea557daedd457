import { type Env, loadConfig } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { pruneEndedEnrollmentKeys } from "../../src/enrollment-keys/public-keys";
import type { CronJob } from "./types";

/** Prunes expired and spent enrollment keys after ENROLLMENT_KEY_RETENTION_DAYS (review M1). */
export const pruneEnrollmentKeysJob: CronJob = {
  name: "prune_enrollment_keys",
  async run(env: Env) {
    const config = loadConfig(env);
    const db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
    return { pruned: await pruneEndedEnrollmentKeys(db, config.enrollmentKeyRetentionDays) };
  },
};
