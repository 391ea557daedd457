#!/usr/bin/env node
// Applies the drizzle-kit migrations in migrations/ to LIBSQL_URL (+ LIBSQL_AUTH_TOKEN).
// Usage: LIBSQL_URL=http://127.0.0.1:8080 npm run db:migrate
import { fileURLToPath } from "node:url";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";

const MIGRATIONS = fileURLToPath(new URL("../migrations", import.meta.url));

/**
 * Applies pending migrations to one database; safe to run repeatedly.
 * @param {{ url: string, authToken?: string }} target
 */
export async function applyMigrations(target) {
  const client = createClient({ url: target.url, authToken: target.authToken || undefined });
  try {
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS });
  } finally {
    client.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const url = process.env.LIBSQL_URL;
  if (!url) {
    console.error("LIBSQL_URL is not set (e.g. LIBSQL_URL=http://127.0.0.1:8080 npm run db:migrate)");
    process.exit(2);
  }
  applyMigrations({ url, authToken: process.env.LIBSQL_AUTH_TOKEN })
    .then(() => console.log(`migrations applied to ${url}`))
    .catch((err) => {
      console.error(`migration failed: ${err.message}`);
      process.exit(1);
    });
}
