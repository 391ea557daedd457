import { sql } from "drizzle-orm";
import { clusters, sshUsernames } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { presenceFilter, textFilter } from "../list-query/filters";
import { nodeScopedFilters } from "../list-query/node-scoped";

/** The SSH username list's field table (rows are usernames joined to node and cluster). */
export const sshUsernameListSpec: ListSpec = {
  filters: {
    ...nodeScopedFilters({
      clusterName: sql`${clusters.name}`,
      nodeId: sql`${sshUsernames.nodeId}`,
      insertedAt: sql`${sshUsernames.insertedAt}`,
      updatedAt: sql`${sshUsernames.updatedAt}`,
    }),
    has_password: presenceFilter(
      sql`${sshUsernames.passwordHash}`,
      "Filter by whether username has password configured",
    ),
    username: textFilter(
      sql`${sshUsernames.username}`,
      "Filter by username (exact match or wildcard: root, admin, etc.)",
    ),
  },
  sortable: {
    username: sql`${sshUsernames.username}`,
    cluster_name: sql`${clusters.name}`,
    inserted_at: sql`${sshUsernames.insertedAt}`,
    updated_at: sql`${sshUsernames.updatedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${sshUsernames.id}`,
};
