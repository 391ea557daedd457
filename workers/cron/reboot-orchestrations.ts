import { loadConfig } from "../../src/config";
import { createDatabase } from "../../src/db/client";
import { resumeOrchestrations } from "../services/reboot-orchestration";
import type { CronJob } from "./types";

/** Hands every orchestrated reboot in flight to its parent's session again (a lost alarm, a restore). */
export const rebootOrchestrationsJob: CronJob = {
  name: "reboot_orchestrations",
  run(env) {
    const config = loadConfig(env);
    return resumeOrchestrations(
      env,
      createDatabase({ url: config.libsqlUrl, authToken: config.libsqlAuthToken }),
    );
  },
};
