import { describeError } from "../../src/db/errors";
import type { Env } from "../env";
import { loadConfig } from "../env";
import { selfUpdateRequestsJob } from "../services/self-update";
import { pruneEnrollmentKeysJob } from "./enrollment-keys";
import { expireExecutionsJob, pruneExecutionsJob, redispatchJob } from "./executions";
import { staleNodesJob } from "./stale-nodes";
import { webhooksJob } from "./webhooks";

/** One periodic job; each runs independently so one failure doesn't stop the rest. */
export interface CronJob {
  name: string;
  run(env: Env): Promise<unknown>;
}

const jobs: CronJob[] = [
  staleNodesJob,
  expireExecutionsJob,
  redispatchJob,
  pruneExecutionsJob,
  webhooksJob,
  selfUpdateRequestsJob,
  pruneEnrollmentKeysJob,
];

/** Runs every cron job once; returns each job's outcome for logging and tests. */
export async function runCronTick(
  env: Env,
): Promise<Record<string, { ok: boolean; result?: unknown; error?: string }>> {
  loadConfig(env);
  const outcomes: Record<string, { ok: boolean; result?: unknown; error?: string }> = {};
  await Promise.all(
    jobs.map(async (job) => {
      try {
        outcomes[job.name] = { ok: true, result: await job.run(env) };
      } catch (err) {
        outcomes[job.name] = { ok: false, error: describeError(err) };
        console.error(
          JSON.stringify({
            level: "error",
            msg: "cron job failed",
            job: job.name,
            error: describeError(err),
          }),
        );
      }
    }),
  );
  return outcomes;
}
