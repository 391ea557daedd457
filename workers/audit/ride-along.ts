import { type RidingEvent, withRideAlong } from "../../src/audit/ride-along";
import type { AppContext } from "../middleware/request-context";
import type { OperationSpec } from "../openapi/registry";
import { auditActor } from "./actor";
import { auditEventName, isAudited, resourceIdOf } from "./request-audit";

/** Whether a mutating operation's event rides in its change's batch (every audited one not exempt). */
export function ridesAlong(spec: OperationSpec): boolean {
  const outsideBatch = spec.audit ? spec.audit.outsideBatch : undefined;
  return spec.method !== "get" && isAudited(spec) && !outsideBatch;
}

// A create (`POST /api/v1/clusters`) names the row it inserts into its path's resource table.
function createdTable(spec: OperationSpec): string | undefined {
  const last = spec.path.split("/").at(-1) ?? "";
  return spec.method === "post" && !last.startsWith("{") ? last : undefined;
}

/**
 * Puts on the context a database whose first change carries this request's audit event in the
 * same batch (`withRideAlong`), and returns what puts the plain one back after the handler. The
 * event says the operation's success status; `defineRoute` still records a refusal that follows.
 * A handler that writes its own event (`auditInBatch`, `ownAuditEntry`) marks the request audited
 * before its batch runs, so nothing rides along then.
 */
export function rideAlong(c: AppContext, spec: OperationSpec, params: Record<string, unknown>): () => void {
  const plain = c.get("db");
  let event: RidingEvent | null = null;
  let done = false;
  c.set(
    "db",
    withRideAlong(plain, {
      pending() {
        if (done || c.get("audited")) return null;
        if (!event) {
          const { event: name, resourceType } = auditEventName(spec);
          event = {
            id: crypto.randomUUID(),
            occurredAt: Date.now(),
            resourceTable: createdTable(spec),
            entry: {
              ...auditActor(c),
              event: name,
              statusCode: spec.success.status,
              success: true,
              resourceType,
              resourceId: resourceIdOf(params, undefined),
            },
          };
        }
        return event;
      },
      written() {
        c.set("audited", true);
      },
    }),
  );
  return () => {
    // Writes a handler left running (waitUntil) are follow-ups, not the change: they carry nothing.
    done = true;
    c.set("db", plain);
  };
}
