import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import type { Health } from "./schema";

/** Whether the database answers a `SELECT 1`, and how fast; never throws. */
export async function pingDatabase(db: Database): Promise<Health["database"]> {
  const began = Date.now();
  try {
    await db.run(sql`SELECT 1`);
    return { reachable: true, latency_ms: Date.now() - began, error: null };
  } catch (err) {
    return { reachable: false, latency_ms: null, error: err instanceof Error ? err.message : String(err) };
  }
}
