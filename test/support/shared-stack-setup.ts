import type { TestProject } from "vitest/node";
import { startStack } from "./stack";

declare module "vitest" {
  export interface ProvidedContext {
    sharedStack: { url: string; port: number; apiKey: string; masterKey: string; dataDir: string };
  }
}

/**
 * One whole local stack for every e2e file that only needs "a stack" (no settings of its own, no
 * restarts, no cron): starting wrangler + libSQL costs seconds per file on 2 cores. Such files share
 * it and keep apart by unique names, as integration files do.
 */
export default async function setup(project: TestProject) {
  const stack = await startStack();
  const { url, port, apiKey, masterKey, dataDir } = stack;
  project.provide("sharedStack", { url, port, apiKey, masterKey, dataDir });
  return async () => {
    await stack.stop();
  };
}
