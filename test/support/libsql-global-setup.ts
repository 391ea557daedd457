import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startLibsqlServer } from "../../scripts/libsql-server/server.mjs";
import { applyMigrations } from "../../scripts/migrate.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    libsqlUrl: string;
  }
}

/** Starts one libSQL dev server for the integration project. */
export default async function setup(project: TestProject) {
  const dataDir = await mkdtemp(join(tmpdir(), "outpost-libsql-"));
  const server = await startLibsqlServer({ host: "127.0.0.1", port: 0, dataDir, faults: true });
  // The root database is the one Durable Objects reach through their own LIBSQL_URL binding;
  // files that need DOs share it and keep apart by unique names. Other files get a namespace each.
  await applyMigrations({ url: server.url });
  project.provide("libsqlUrl", server.url);
  return async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  };
}
