import type { Env } from "../../src/config";
import type { Logger } from "../../src/log";

/** One periodic job; each runs independently so one failure doesn't stop the rest. */
export interface CronJob {
  name: string;
  /** `log` has the job's name bound. */
  run(env: Env, log: Logger): Promise<unknown>;
}
