import { loadConfig } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { expireAndPruneRegistrations } from "../../src/node-registrations/store";
import type { CronJob } from "./types";

/** Days a decided (approved, rejected or expired) registration is kept for the record. */
const DECIDED_RETENTION_DAYS = 30;

/** Expires registrations pending for 7 days (C18) and prunes old decided ones. */
export const nodeRegistrationsJob: CronJob = {
  name: "node_registrations",
  async run(env) {
    const config = loadConfig(env);
    const db = createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken });
    return expireAndPruneRegistrations(db, DECIDED_RETENTION_DAYS);
  },
};
