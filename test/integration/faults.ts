import { env } from "cloudflare:workers";
import type { Env } from "../../src/config";

/** A rule for the dev server's fault hook (`scripts/libsql-server/faults.mjs`). */
export interface FaultRule {
  /** A piece of the statement's SQL text (case-insensitive). */
  sql: string;
  /** A string one of the statement's arguments contains (a node or execution id keeps tests apart). */
  arg?: string;
  /** How many matching statements fail. */
  times: number;
  /** `busy`: SQLITE_BUSY for the statement; `unavailable`: HTTP 503 for the whole request. */
  error?: "busy" | "unavailable";
}

/**
 * Makes the shared libSQL dev server fail the next `times` statements matching the rule, as a
 * loaded server would: the code under test talks to the real server, nothing of ours is mocked.
 */
export async function injectFault(rule: FaultRule): Promise<void> {
  const res = await fetch(faultsUrl(), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(rule),
  });
  if (!res.ok) throw new Error(`fault refused: ${res.status} ${await res.text()}`);
}

/** Disarms every rule (the database "recovers"). */
export async function clearFaults(): Promise<void> {
  await fetch(faultsUrl(), { method: "DELETE" });
}

function faultsUrl(): string {
  return `${(env as Env).LIBSQL_URL!.replace(/\/+$/, "")}/__faults`;
}
