import { auditStatement } from "../../src/audit/record";
import type { Database } from "../../src/db/client";
import type { AppContext } from "../middleware/request-context";
import { ownAuditEntry } from "./request-audit";

/**
 * The audit insert of the change this request makes, to go in the change's own batch (or
 * transaction) right after the statement that makes it: the two commit together or not at all, so
 * a change never lands without its event, and an audit write that fails undoes the change. It is
 * written only when that statement changed a row (a delete that found nothing records nothing), and
 * the request counts as audited, so `defineRoute` writes no second event (a refusal is still
 * recorded there).
 * @example await db.batch([db.delete(webhooks).where(…), auditInBatch(c, db, "webhook.deleted", { type: "webhook", id, status: 204 })])
 */
export function auditInBatch(
  c: AppContext,
  db: Pick<Database, "run">,
  event: string,
  resource: { type: string; id: string | null; status: number; details?: Record<string, unknown> },
) {
  const entry = ownAuditEntry(c, event, resource);
  return auditStatement(db, { ...entry, details: resource.details ?? null }, Date.now(), {
    afterChange: true,
  });
}

/** The insert `auditInBatch` returns: one more item for a drizzle batch. */
export type AuditInBatch = ReturnType<typeof auditInBatch>;
