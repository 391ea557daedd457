import { type AuditEntry, auditStatement } from "../../src/audit/record";
import type { AppContext } from "../middleware/request-context";
import type { OperationSpec } from "../openapi/registry";
import { auditActor, sealAfterResponse } from "./actor";

/**
 * The audit entry of a handler that writes its event in the change's own batch; marks the request
 * as audited so `defineRoute` writes no second event (it seals the chain after the answer).
 */
export function ownAuditEntry(
  c: AppContext,
  event: string,
  resource: { type: string; id: string | null; status: number },
): AuditEntry {
  c.set("audited", true);
  return {
    ...auditActor(c),
    event,
    statusCode: resource.status,
    success: resource.status < 400,
    resourceType: resource.type,
    resourceId: resource.id,
  };
}

const AUDITED_REFUSALS = new Set([403, 409, 429, 500]);

const VERB_BY_METHOD = { post: "created", patch: "updated", put: "updated", delete: "deleted", get: "read" };

function singular(plural: string): string {
  if (plural.endsWith("ses")) return plural.slice(0, -2);
  return plural.endsWith("s") ? plural.slice(0, -1) : plural;
}

/**
 * `<resource>.<verb>` and the resource type of an operation, from its path: `DELETE /nodes/{id}` is
 * `node.deleted`; `PATCH /nodes/{id}/change_cluster` is `node.change_cluster`; `POST
 * /nodes/{node_id}/aliases` is `alias.created`. A spec's `audit.event` overrides it.
 */
export function auditEventName(spec: OperationSpec): { event: string; resourceType: string } {
  const segments = spec.path.replace(/^\/api\/v1\//, "").split("/");
  const statics = segments.filter((s) => !s.startsWith("{"));
  const last = segments[segments.length - 1];
  let resource = statics[statics.length - 1] ?? "request";
  let verb: string = VERB_BY_METHOD[spec.method];
  const endsInAction =
    segments.length > 1 && !last.startsWith("{") && !(spec.method === "post" && last.endsWith("s"));
  if (endsInAction) {
    // `PATCH /nodes/{id}/change_cluster`, `POST /webhooks/{id}/deliveries/{d}/redeliver`: a verb on a resource.
    resource = statics[statics.length - 2] ?? resource;
    verb = last;
  }
  const resourceType = (spec.audit ? spec.audit.resourceType : undefined) || singular(resource);
  return { event: (spec.audit ? spec.audit.event : undefined) || `${resourceType}.${verb}`, resourceType };
}

/** Whether `defineRoute` writes an audit event for this operation. */
export function isAudited(spec: OperationSpec): boolean {
  if (spec.public || spec.audit === false) return false;
  return spec.method !== "get" || spec.audit?.read === true;
}

export function resourceIdOf(params: Record<string, unknown>, data: unknown): string | null {
  for (const key of ["id", "name", "node_id", "cluster_name"]) {
    const value = params[key];
    if (typeof value === "string") return value;
  }
  if (data && typeof data === "object" && "id" in data && typeof data.id === "string") return data.id;
  return null;
}

/**
 * Records the outcome of an audited operation whose event did not ride in its change's batch: a
 * refusal, a change made outside our database (`audit.outsideBatch`), or a request that changed
 * nothing. A handler's own event or a ride-along (`workers/audit/ride-along.ts`) set `audited`.
 */
export async function auditRequest(
  c: AppContext,
  spec: OperationSpec,
  params: Record<string, unknown>,
  outcome: { status: number; data?: unknown; error?: string },
): Promise<void> {
  const failed = outcome.status >= 400;
  // A handler that audits in its own batch did so only when it succeeded; a refusal is recorded here.
  if (c.get("audited")) sealAfterResponse(c);
  if (c.get("audited") && !failed) return;
  // Refusals by policy (403 forbidden, 409 conflict) are recorded; malformed input (400, 413, 415,
  // 422) and unknown ids (404) change nothing and only say the client is broken, so they are not.
  if (failed && !AUDITED_REFUSALS.has(outcome.status)) return;
  const audited = failed ? isAudited({ ...spec, audit: spec.audit || undefined }) : isAudited(spec);
  if (!audited || !c.get("principal")) return;
  const { event, resourceType } = auditEventName(spec);
  const entry: AuditEntry = {
    ...auditActor(c),
    event,
    statusCode: outcome.status,
    success: outcome.status < 400,
    resourceType,
    resourceId: resourceIdOf(params, outcome.data),
    details: outcome.error ? { error: outcome.error } : null,
  };
  try {
    await auditStatement(c.get("db"), entry);
    sealAfterResponse(c);
  } catch (err) {
    // The change is already committed; failing its answer now would invite a duplicate retry.
    c.get("log").error("audit write failed", { event, error: err });
  }
}
