import { type Env, loadConfig } from "../../src/config";
import { describeError } from "../../src/db/errors";
import { createLogger, type Logger } from "../../src/log";
import { auditJob } from "./audit";
import { pruneEnrollmentKeysJob } from "./enrollment-keys";
import { advanceRolloutsJob, expireExecutionsJob, pruneExecutionsJob, redispatchJob } from "./executions";
import { inventoryRefreshRequestsJob } from "./inventory-refresh";
import { nodeRegistrationsJob } from "./node-registrations";
import { notificationsJob } from "./notifications";
import { rebootOrchestrationsJob } from "./reboot-orchestrations";
import { pruneOutboxJob } from "./retention";
import { selfUpdateRequestsJob } from "./self-update";
import { staleNodesJob } from "./stale-nodes";
import type { CronJob } from "./types";
import { webhooksJob } from "./webhooks";

const jobs: CronJob[] = [
  staleNodesJob,
  expireExecutionsJob,
  redispatchJob,
  advanceRolloutsJob,
  pruneExecutionsJob,
  pruneOutboxJob,
  webhooksJob,
  notificationsJob,
  selfUpdateRequestsJob,
  inventoryRefreshRequestsJob,
  auditJob,
  pruneEnrollmentKeysJob,
  nodeRegistrationsJob,
  rebootOrchestrationsJob,
];

/** Runs every cron job once; returns each job's outcome for logging and tests. */
export async function runCronTick(
  env: Env,
  log: Logger = createLogger(),
): Promise<Record<string, { ok: boolean; result?: unknown; error?: string }>> {
  loadConfig(env);
  const outcomes: Record<string, { ok: boolean; result?: unknown; error?: string }> = {};
  await Promise.all(
    jobs.map(async (job) => {
      const jobLog = log.child({ job: job.name });
      try {
        outcomes[job.name] = { ok: true, result: await job.run(env, jobLog) };
      } catch (err) {
        outcomes[job.name] = { ok: false, error: describeError(err) };
        jobLog.error("cron job failed", { error: err });
      }
    }),
  );
  return outcomes;
}
