import type { TestProject } from "vitest/node";
import { startStack } from "./stack";

declare module "vitest" {
  export interface ProvidedContext {
    sharedStack: { url: string; port: number; apiKey: string; masterKey: string; dataDir: string };
  }
}

/**
 * The shared stack's settings. Files share its limiters and all send from 127.0.0.1, so the per-client
 * limits are off (as in the integration project; dev-stack.test.ts tests them on its own stack).
 * Status damping is 1 s so a flip (a refused self-update, a failed check) shows within a test, and
 * an agent waiting for approval polls every second instead of every 10.
 * No ticker: a file that needs the cron runs one while it runs (startCronTicker in fleet.ts).
 */
export const SHARED_STACK_ENV: Record<string, string> = {
  RATE_LIMIT_ENROLL_PER_MINUTE: "0",
  RATE_LIMIT_PUBLIC_KEY_PER_MINUTE: "0",
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "0",
  RATE_LIMIT_SSH_PASSWORD_PER_MINUTE: "0",
  NODE_STATUS_MIN_INTERVAL_SECONDS: "1",
  NODE_REGISTRATION_POLL_SECONDS: "1",
};

/**
 * One whole local stack for every e2e file that does not restart the stack or need settings other
 * than SHARED_STACK_ENV: starting wrangler + libSQL costs seconds per file on 2 cores. Such files
 * share it and keep apart by unique names, as integration files do.
 */
export default async function setup(project: TestProject) {
  const stack = await startStack({ env: SHARED_STACK_ENV });
  const { url, port, apiKey, masterKey, dataDir } = stack;
  project.provide("sharedStack", { url, port, apiKey, masterKey, dataDir });
  return async () => {
    await stack.stop();
  };
}
