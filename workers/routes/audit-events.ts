import type { Hono } from "hono";
import { auditEventListSpec } from "../../src/audit/list";
import { exportAuditEvents, presentAuditEvent } from "../../src/audit/present";
import {
  AuditChainVerificationSchema,
  AuditEventResponseSchema,
  AuditVerificationSchema,
  ExportFormatQuery,
  SeqQuery,
} from "../../src/audit/schema";
import { sealAuditEvents } from "../../src/audit/seal";
import { auditEventsBetween, auditRange, getAuditEvent, listAuditEvents } from "../../src/audit/store";
import { verifyAuditChain, verifyAuditEvent } from "../../src/audit/verify";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";

const TAG = "Access.AuditEvent";
const idParam = { id: { schema: UuidParam, description: "Audit event ID" } };
const rangeQuery = {
  from_seq: { schema: SeqQuery, description: "First seq (default: the oldest kept event)" },
  to_seq: { schema: SeqQuery, description: "Last seq (default and maximum: from_seq + 9,999)" },
};

/** Registers `/api/v1/audit_events`: the signed, hash-chained record of every change and sensitive read. */
export function registerAuditEventRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/audit_events",
      tag: TAG,
      summary: "List audit events",
      description:
        "Newest first by default. `details` never holds secrets (they are redacted before writing).",
      permission: "audit:read",
      clusterScope: { refuse: true },
      list: auditEventListSpec,
      success: {
        status: 200,
        description: "Paginated audit events",
        data: AuditEventResponseSchema,
        paginated: true,
      },
    },
    listRoute({ page: listAuditEvents, present: (rows) => rows.map(presentAuditEvent) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/audit_events/verify",
      tag: TAG,
      summary: "Verify the chain over a range of seq",
      description:
        "Checks that no seq is missing, that each event's prev_hash is its predecessor's hash (a deleted row breaks it) and each event's hash and signature. At most 10,000 events a call; `first_failure` names the first bad event.",
      permission: "audit:read",
      clusterScope: { refuse: true },
      query: rangeQuery,
      success: { status: 200, description: "Chain check", data: AuditChainVerificationSchema },
      errors: [503],
    },
    async (c, { query }) => {
      const db = c.get("db");
      const key = c.get("config").auditSigningKey;
      await sealAuditEvents(db, key);
      const range = await auditRange(db, query.from_seq, query.to_seq);
      return { data: await verifyAuditChain(db, range, key) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/audit_events/export",
      tag: TAG,
      summary: "Export audit events",
      description:
        "JSON Lines (`format=jsonl`, default) or CSV, oldest first, at most 10,000 events a call (page with from_seq). Each event carries prev_hash, hash and signature, so an export can be verified offline with the signing key.",
      permission: "audit:read",
      clusterScope: { refuse: true },
      query: { format: { schema: ExportFormatQuery, description: "jsonl (default) or csv" }, ...rangeQuery },
      success: {
        status: 200,
        description: "The events",
        data: null,
        file: ["application/x-ndjson", "text/csv"],
      },
      errors: [503],
    },
    async (c, { query }) => {
      const db = c.get("db");
      await sealAuditEvents(db, c.get("config").auditSigningKey);
      const range = await auditRange(db, query.from_seq, query.to_seq);
      const format = query.format ?? "jsonl";
      const body = exportAuditEvents(await auditEventsBetween(db, range.from, range.to), format);
      return new Response(body, {
        headers: {
          "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
          "content-disposition": `attachment; filename="audit-events-${range.from}-${range.to}.${format}"`,
        },
      });
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/audit_events/{id}",
      tag: TAG,
      summary: "Get an audit event",
      permission: "audit:read",
      clusterScope: { refuse: true },
      params: idParam,
      success: { status: 200, description: "The event", data: AuditEventResponseSchema },
      errors: [404],
    },
    async (c, { params }) => ({ data: presentAuditEvent(await getAuditEvent(c.get("db"), params.id)) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/audit_events/{id}/verify",
      tag: TAG,
      summary: "Verify one audit event",
      description:
        "Recomputes the event's hash and HMAC signature; `available` is false when AUDIT_SIGNING_KEY is unset.",
      permission: "audit:read",
      clusterScope: { refuse: true },
      params: idParam,
      success: { status: 200, description: "Verification", data: AuditVerificationSchema },
      errors: [404],
    },
    async (c, { params }) => {
      const db = c.get("db");
      const key = c.get("config").auditSigningKey;
      await sealAuditEvents(db, key);
      return { data: await verifyAuditEvent(await getAuditEvent(db, params.id), key) };
    },
  );
}
