import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startLibsqlServer } from "../../scripts/libsql-server/server.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    libsqlUrl: string;
  }
}

/** Starts one libSQL dev server for the integration project; each test file uses its own namespace on it. */
export default async function setup(project: TestProject) {
  const dataDir = await mkdtemp(join(tmpdir(), "outpost-libsql-"));
  const server = await startLibsqlServer({ host: "127.0.0.1", port: 0, dataDir });
  project.provide("libsqlUrl", server.url);
  return async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  };
}
