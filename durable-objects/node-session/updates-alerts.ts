import { eq } from "drizzle-orm";
import * as v from "valibot";
import { type AlertMetric, type UpdatesFacts, updatesAlertValues } from "../../src/alert-rules/metrics";
import type { Database } from "../../src/db/client";
import { nodeUpdates } from "../../src/db/schema";
import type { InventoryReport } from "../../src/inventory/report";
import { UpdatesData } from "../../src/protocol/inventory-sections";
import type { SessionStore } from "./store";

// The `security_updates_pending` and `reboot_required` alert metrics come from the inventory's
// `updates` section, which arrives rarely (and, unchanged, only as a hash). The session keeps the
// two facts in its own storage and evaluates them with every heartbeat, so their rules get the
// heartbeat's rhythm (`for_seconds` works as for any metric) and a steady state reads and writes
// nothing in libSQL.

const UPDATES_FACTS_KEY = "updates_facts";

/** A changed `updates` section arrived (and was stored in libSQL): its facts are the node's now. */
export function rememberUpdates(store: SessionStore, report: InventoryReport): void {
  if (report.section !== "updates") return;
  const parsed = report.status === "ok" ? v.safeParse(UpdatesData, report.data) : undefined;
  const facts: UpdatesFacts | null = parsed?.success
    ? { security_count: parsed.output.security_count, reboot_required: parsed.output.reboot_required }
    : null;
  store.set(UPDATES_FACTS_KEY, facts);
}

/**
 * At hello: the facts libSQL holds for the node (the source of truth, as for the section hashes:
 * an unchanged section is never sent again, and the object's copy could predate a restore). One
 * read per connection; the object's storage is written only when the facts differ.
 */
export async function loadUpdatesOnHello(db: Database, store: SessionStore, nodeId: string): Promise<void> {
  const [row] = await db
    .select({ security: nodeUpdates.securityCount, reboot: nodeUpdates.rebootRequired })
    .from(nodeUpdates)
    .where(eq(nodeUpdates.nodeId, nodeId));
  const facts: UpdatesFacts | null = row
    ? { security_count: row.security, reboot_required: row.reboot }
    : null;
  store.set(UPDATES_FACTS_KEY, facts);
}

/** The updates alert metrics from the facts the session keeps (none before any report). */
export function storedUpdatesAlertValues(store: SessionStore): Partial<Record<AlertMetric, number>> {
  return updatesAlertValues(store.get<UpdatesFacts | null>(UPDATES_FACTS_KEY));
}
