import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import {
  alerts,
  aliases,
  clusters,
  commandExecutions,
  enrollmentKeys,
  inventoryRefreshRequests,
  nodePackages,
  nodes,
  nodeTombstones,
  selfUpdateRequests,
  sshPublicKeys,
  sshUsernames,
} from "../db/schema";
import { ApiError } from "../errors";

/**
 * How an operation is limited for a cluster-scoped principal (an API token with `cluster_names`).
 * `list`: the row's cluster id, so a list's `where` is narrowed to the scope. `param`: the path
 * parameter naming one resource and SQL yielding that resource's cluster name, so a resource outside
 * the scope is a 404 (it does not exist for this caller).
 */
export interface ClusterScopeSpec {
  list?: SQL;
  param?: { name: string; clusterName: (value: string) => SQL };
  /**
   * The operation reaches every cluster (webhooks see every cluster's events; users, roles and the
   * audit log are fleet-wide): a cluster-scoped principal gets 403, whatever its permissions.
   */
  refuse?: true;
  /**
   * The rows reach several clusters through a stored targeting (fleet requests): `list` is the
   * row's targeting, so a list shows only the rows within the scope (`targetingWithin`); `param`
   * names the path parameter and SQL yielding that row's targeting, so a row outside is a 404.
   */
  targeting?: { list?: SQL; param?: { name: string; targeting: (value: string) => SQL } };
}

/** `expr IN (ids of the scope's clusters)`. */
export function clusterIdInScope(expr: SQL, scope: readonly string[]): SQL {
  return sql`${expr} IN (SELECT ${clusters.id} FROM ${clusters} WHERE ${clusters.name} IN (SELECT value FROM json_each(${JSON.stringify(scope)})))`;
}

/** The cluster name of a node. */
export const nodeClusterName = (id: string): SQL =>
  sql`SELECT ${clusters.name} FROM ${nodes} JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId} WHERE ${nodes.id} = ${id.toLowerCase()}`;

/**
 * The cluster name of a command execution: its node's (`cluster_name` on the row is the targeting's,
 * null for other targetings). An execution whose node was deleted is outside every scope.
 */
export const executionClusterName = (id: string): SQL =>
  sql`SELECT coalesce(${clusters.name}, '') FROM ${commandExecutions} LEFT JOIN ${nodes} ON ${nodes.id} = ${commandExecutions.nodeId} LEFT JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId} WHERE ${commandExecutions.id} = ${id.toLowerCase()}`;

/** The cluster name of an enrollment key. */
export const enrollmentKeyClusterName = (id: string): SQL =>
  sql`SELECT ${clusters.name} FROM ${enrollmentKeys} JOIN ${clusters} ON ${clusters.id} = ${enrollmentKeys.clusterId} WHERE ${enrollmentKeys.id} = ${id.toLowerCase()}`;

/** The cluster name of an alias (kept on the row in step with its node). */
export const aliasClusterName = (id: string): SQL =>
  sql`SELECT ${clusters.name} FROM ${aliases} JOIN ${clusters} ON ${clusters.id} = ${aliases.clusterId} WHERE ${aliases.id} = ${id.toLowerCase()}`;

/** The cluster name of an SSH username (its node's). */
export const sshUsernameClusterName = (id: string): SQL =>
  sql`SELECT ${clusters.name} FROM ${sshUsernames} JOIN ${nodes} ON ${nodes.id} = ${sshUsernames.nodeId} JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId} WHERE ${sshUsernames.id} = ${id.toLowerCase()}`;

/** The cluster name of an SSH public key (its username's node's). */
export const sshPublicKeyClusterName = (id: string): SQL =>
  sql`SELECT ${clusters.name} FROM ${sshPublicKeys} JOIN ${sshUsernames} ON ${sshUsernames.id} = ${sshPublicKeys.sshUsernameId} JOIN ${nodes} ON ${nodes.id} = ${sshUsernames.nodeId} JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId} WHERE ${sshPublicKeys.id} = ${id.toLowerCase()}`;

/** The cluster name of an alert (its node's; an alert of a deleted node is outside every scope). */
export const alertClusterName = (id: string): SQL =>
  sql`SELECT coalesce(${clusters.name}, '') FROM ${alerts} LEFT JOIN ${nodes} ON ${nodes.id} = ${alerts.nodeId} LEFT JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId} WHERE ${alerts.id} = ${id.toLowerCase()}`;

/** The cluster name a tombstone recorded ('' when it recorded none: outside every scope). */
export const tombstoneClusterName = (nodeId: string): SQL =>
  sql`SELECT coalesce(${nodeTombstones.clusterName}, '') FROM ${nodeTombstones} WHERE ${nodeTombstones.nodeId} = ${nodeId.toLowerCase()}`;

/**
 * True for a stored targeting (JSON) that reaches only the scope's clusters: its cluster names all
 * in the scope, or its nodes all in the scope's clusters (a deleted node is outside every scope).
 * `all` reaches every cluster, so it is outside any scope: a scoped token's own requests are stored
 * narrowed to its clusters (`narrowTargeting`), so it still sees them.
 */
export function targetingWithin(targeting: SQL, scope: readonly string[]): SQL {
  const inScope = sql`(SELECT value FROM json_each(${JSON.stringify(scope)}))`;
  return sql`(CASE json_extract(${targeting}, '$.type')
    WHEN 'clusters' THEN NOT EXISTS (SELECT 1 FROM json_each(${targeting}, '$.cluster_names') AS tg
      WHERE tg.value NOT IN ${inScope})
    WHEN 'nodes' THEN NOT EXISTS (SELECT 1 FROM json_each(${targeting}, '$.node_ids') AS tg
      LEFT JOIN ${nodes} ON ${nodes.id} = tg.value LEFT JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId}
      WHERE ${clusters.name} IS NULL OR ${clusters.name} NOT IN ${inScope})
    ELSE 0 END)`;
}

/** 404 unless the stored targeting the path names (`targetingSql`, null for no row) lies within `scope`. */
export async function assertTargetingInScope(
  db: Database,
  targetingSql: SQL,
  scope: readonly string[],
): Promise<void> {
  const rows = await db.all<{ targeting: string | null; within: number | null }>(
    sql`SELECT t AS targeting, ${targetingWithin(sql`t`, scope)} AS within FROM (SELECT (${targetingSql}) AS t)`,
  );
  const row = rows[0];
  if (!row || row.targeting === null) return;
  if (!row.within) throw new ApiError("not_found", "Resource not found");
}

/** The stored targeting of a self-update request. */
export const selfUpdateTargeting = (id: string): SQL =>
  sql`SELECT ${selfUpdateRequests.targeting} FROM ${selfUpdateRequests} WHERE ${selfUpdateRequests.id} = ${id.toLowerCase()}`;

/** The stored targeting of an inventory refresh request. */
export const refreshRequestTargeting = (id: string): SQL =>
  sql`SELECT ${inventoryRefreshRequests.targeting} FROM ${inventoryRefreshRequests} WHERE ${inventoryRefreshRequests.id} = ${id.toLowerCase()}`;

/** A cluster named in the path is its own cluster. */
export const namedCluster = (name: string): SQL => sql`SELECT ${name}`;

/** Row cluster ids of the scoped lists. */
export const SCOPE_COLUMNS = {
  nodes: sql`${nodes.clusterId}`,
  clusters: sql`${clusters.id}`,
  enrollmentKeys: sql`${enrollmentKeys.clusterId}`,
  executions: sql`(SELECT ${nodes.clusterId} FROM ${nodes} WHERE ${nodes.id} = ${commandExecutions.nodeId})`,
  aliases: sql`${aliases.clusterId}`,
  sshUsernames: sql`(SELECT ${nodes.clusterId} FROM ${nodes} WHERE ${nodes.id} = ${sshUsernames.nodeId})`,
  sshPublicKeys: sql`(SELECT ${nodes.clusterId} FROM ${sshUsernames} JOIN ${nodes} ON ${nodes.id} = ${sshUsernames.nodeId} WHERE ${sshUsernames.id} = ${sshPublicKeys.sshUsernameId})`,
  packages: sql`(SELECT ${nodes.clusterId} FROM ${nodes} WHERE ${nodes.id} = ${nodePackages.nodeId})`,
  alerts: sql`(SELECT ${nodes.clusterId} FROM ${nodes} WHERE ${nodes.id} = ${alerts.nodeId})`,
  tombstones: sql`(SELECT ${clusters.id} FROM ${clusters} WHERE ${clusters.name} = ${nodeTombstones.clusterName})`,
};

/** Stored targetings of the fleet requests' lists (`ClusterScopeSpec.targeting.list`). */
export const SCOPE_TARGETINGS = {
  selfUpdates: sql`${selfUpdateRequests.targeting}`,
  inventoryRefreshes: sql`${inventoryRefreshRequests.targeting}`,
};

/**
 * 403 unless the cluster an operation would write into (a move's destination, a new cluster, the
 * default cluster's key) lies in `scope`: a scoped principal must not place anything outside it.
 */
export function assertClusterWritable(name: string, scope: readonly string[] | null, field: string): void {
  if (!scope || scope.includes(name)) return;
  throw new ApiError("forbidden", `Cluster "${name}" lies outside this token's clusters`, {
    [field]: [`this token is limited to clusters: ${scope.join(", ")}`],
  });
}

/**
 * 404 unless the resource the path names lies in `scope`. A resource that does not exist passes
 * here and gets the handler's own 404, so both answers look the same.
 */
export async function assertInScope(
  db: Database,
  clusterNameSql: SQL,
  scope: readonly string[],
): Promise<void> {
  const rows = await db.all<{ name: string | null }>(sql`SELECT (${clusterNameSql}) AS name`);
  const name = rows[0]?.name;
  if (name === null || name === undefined) return;
  if (!scope.includes(name)) throw new ApiError("not_found", "Resource not found");
}

/**
 * The target node ids a cluster-scoped principal may reach: `nodeIds` intersected with its scope,
 * order kept; 403 when none is left (the command would only reach nodes it cannot see).
 */
export async function targetsInScope(
  db: Database,
  nodeIds: string[],
  scope: readonly string[] | null,
): Promise<string[]> {
  if (!scope) return nodeIds;
  const rows = await db.all<{ id: string }>(sql`
    SELECT ${nodes.id} AS id FROM ${nodes} JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId}
     WHERE ${nodes.id} IN (SELECT value FROM json_each(${JSON.stringify(nodeIds)}))
       AND ${clusters.name} IN (SELECT value FROM json_each(${JSON.stringify(scope)}))`);
  const allowed = new Set(rows.map((r) => r.id));
  const kept = nodeIds.filter((id) => allowed.has(id));
  if (kept.length === 0)
    throw new ApiError("forbidden", "Every target lies outside this token's clusters", {
      targeting: [`this token is limited to clusters: ${scope.join(", ")}`],
    });
  return kept;
}
