import { isoOrNull, isoSeconds } from "../time";
import { type NodeRegistrationResponse, REGISTRATION_TTL_MS } from "./schema";
import type { NodeRegistrationRow } from "./store";

/** Renders a registration row (never its poll secret or the token it holds for the agent). */
export function presentRegistration(row: NodeRegistrationRow): NodeRegistrationResponse {
  return {
    id: row.id,
    status: row.status,
    node_id: row.proposedNodeId,
    id_type: row.idType,
    cluster_name: row.clusterName,
    enrollment_key_id: row.enrollmentKeyId,
    hostname: row.hostname,
    platform: row.platform,
    arch: row.arch,
    agent_version: row.agentVersion,
    ip: row.ip,
    decided_by: row.decidedBy,
    decided_at: isoOrNull(row.decidedAt),
    expires_at: row.status === "pending" ? isoSeconds(row.insertedAt + REGISTRATION_TTL_MS) : null,
    inserted_at: isoSeconds(row.insertedAt),
    updated_at: isoSeconds(row.updatedAt),
  };
}
