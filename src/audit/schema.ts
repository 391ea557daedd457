import * as v from "valibot";
import { UuidOutput } from "../schemas/common";

export const AuditEventResponseSchema = v.pipe(
  v.object({
    id: UuidOutput,
    seq: v.pipe(v.number(), v.integer()),
    occurred_at: v.pipe(v.string(), v.isoTimestamp()),
    event: v.string(),
    actor_type: v.string(),
    actor_id: v.nullable(v.string()),
    actor_name: v.nullable(v.string()),
    ip: v.nullable(v.string()),
    user_agent: v.nullable(v.string()),
    method: v.nullable(v.string()),
    path: v.nullable(v.string()),
    request_id: v.nullable(v.string()),
    status_code: v.nullable(v.pipe(v.number(), v.integer())),
    success: v.boolean(),
    resource_type: v.nullable(v.string()),
    resource_id: v.nullable(v.string()),
    details: v.nullable(v.record(v.string(), v.unknown())),
    prev_hash: v.nullable(v.string()),
    hash: v.nullable(v.string()),
    signature: v.nullable(v.string()),
  }),
  v.title("AuditEventResponse"),
);
export type AuditEventResponse = v.InferOutput<typeof AuditEventResponseSchema>;

export const AuditVerificationSchema = v.pipe(
  v.object({ available: v.boolean(), verified: v.boolean(), message: v.string() }),
  v.title("AuditVerification"),
);

export const AuditChainVerificationSchema = v.pipe(
  v.object({
    available: v.boolean(),
    verified: v.boolean(),
    message: v.string(),
    from_seq: v.pipe(v.number(), v.integer()),
    to_seq: v.pipe(v.number(), v.integer()),
    checked: v.pipe(v.number(), v.integer()),
    first_failure: v.nullable(v.object({ seq: v.pipe(v.number(), v.integer()), reason: v.string() })),
  }),
  v.title("AuditChainVerification"),
);

/** A `seq` bound in a query string. */
export const SeqQuery = v.pipe(
  v.string(),
  v.regex(/^\d{1,15}$/, "must be a positive integer"),
  v.transform(Number),
  v.minValue(1, "must be a positive integer"),
);

export const ExportFormatQuery = v.picklist(["jsonl", "csv"], "must be jsonl or csv");
