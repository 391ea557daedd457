import { type SQL, sql } from "drizzle-orm";
import { clusters, nodeRegistrations } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { enumFilter, rangeFilters, textFilter, uuidFilter } from "../list-query/filters";
import { REGISTRATION_STATUSES } from "./schema";

const r = nodeRegistrations;
/** The node registration list's field table (rows are registrations joined to their cluster). */
export const nodeRegistrationListSpec: ListSpec = {
  filters: {
    status: enumFilter(sql`${r.status}`, REGISTRATION_STATUSES, "Filter by registration status"),
    cluster_name: textFilter(sql`${clusters.name}`, "Filter by cluster name (exact match or wildcard)"),
    hostname: textFilter(sql`${r.hostname}`, "Filter by the hostname the agent reported (wildcards)"),
    node_id: uuidFilter(sql`${r.proposedNodeId}`, "Filter by the node ID the agent proposed"),
    enrollment_key_id: uuidFilter(sql`${r.enrollmentKeyId}`, "Filter by enrollment key ID"),
    ...rangeFilters("inserted_at", sql`${r.insertedAt}`, "datetime"),
    ...rangeFilters("decided_at", sql`${r.decidedAt}`, "datetime"),
  },
  sortable: {
    inserted_at: sql`${r.insertedAt}`,
    decided_at: sql`${r.decidedAt}`,
    hostname: sql`${r.hostname}`,
    cluster_name: sql`${clusters.name}`,
    status: sql`${r.status}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${r.id}`,
};

/** A registration's cluster id, to narrow the list for a cluster-scoped principal. */
export const registrationScopeColumn: SQL = sql`${r.clusterId}`;

/** The cluster name of a registration, so one outside a principal's scope is a 404. */
export const registrationClusterName = (id: string): SQL =>
  sql`SELECT ${clusters.name} FROM ${r} JOIN ${clusters} ON ${clusters.id} = ${r.clusterId} WHERE ${r.id} = ${id.toLowerCase()}`;
