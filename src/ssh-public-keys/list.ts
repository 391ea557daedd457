import { sql } from "drizzle-orm";
import { clusters, sshPublicKeys, sshUsernames } from "../db/schema";
import type { ListSpec } from "../list-query/engine";
import { textFilter, uuidFilter } from "../list-query/filters";
import { nodeScopedFilters } from "../list-query/node-scoped";

/** The SSH public key list's field table (rows are keys joined to username, node and cluster). */
export const sshPublicKeyListSpec: ListSpec = {
  filters: {
    ...nodeScopedFilters({
      clusterName: sql`${clusters.name}`,
      nodeId: sql`${sshUsernames.nodeId}`,
      insertedAt: sql`${sshPublicKeys.insertedAt}`,
      updatedAt: sql`${sshPublicKeys.updatedAt}`,
    }),
    key_name: textFilter(
      sql`${sshPublicKeys.keyName}`,
      "Filter by key name (exact match or wildcard: my-key, prod, etc.)",
    ),
    public_key: textFilter(
      sql`${sshPublicKeys.publicKey}`,
      "Filter by public key content (useful for searching email comments: *@example.com); without `*` it matches anywhere in the key",
      { substring: true },
    ),
    ssh_username_id: uuidFilter(sql`${sshPublicKeys.sshUsernameId}`, "Filter by SSH username ID"),
    username: textFilter(
      sql`${sshUsernames.username}`,
      "Filter by SSH username (exact match or wildcard: deploy, admin, etc.)",
    ),
  },
  sortable: {
    key_name: sql`${sshPublicKeys.keyName}`,
    username: sql`${sshUsernames.username}`,
    cluster_name: sql`${clusters.name}`,
    inserted_at: sql`${sshPublicKeys.insertedAt}`,
    updated_at: sql`${sshPublicKeys.updatedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${sshPublicKeys.id}`,
};
