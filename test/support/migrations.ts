import { createClient } from "@libsql/client/web";

// Vite inlines the migration files, so workerd tests can migrate without a filesystem.
const files = import.meta.glob("../../migrations/*.sql", {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

/** Applies every migration in order to the database at `url` (a fresh namespace per test file). */
export async function migrateDatabase(url: string): Promise<void> {
  const client = createClient({ url });
  try {
    for (const name of Object.keys(files).sort()) {
      const statements = files[name]
        .split("--> statement-breakpoint")
        .map((s) => s.trim())
        .filter(Boolean);
      await client.batch(statements, "write");
    }
  } finally {
    client.close();
  }
}
