import { and, type SQL, sql } from "drizzle-orm";
import { targetsInScope } from "../../src/access/cluster-scope";
import type { Database } from "../../src/db/client";
import { clusters, nodes } from "../../src/db/schema";
import { ApiError } from "../../src/errors";
import type { FilterDef } from "../../src/list-query/filters";
import { CLUSTER_FILTERS, NODE_FILTERS, type Targeting } from "../../src/targeting/schema";

// What a targeting is (its schema and filter keys) lives in src/targeting/schema.ts; this service
// turns one into node ids. Re-exported for self-update-requests until it imports them from src/.

function listed(names: string[], max = 20): string {
  const shown = names.slice(0, max).join(", ");
  return names.length > max ? `${shown} (and ${names.length - max} more)` : shown;
}

async function conditions(defs: Record<string, FilterDef>, values: Record<string, unknown> = {}) {
  const out: SQL[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const def = defs[key];
    // Already checked by the schema; an unknown key or a failure here is a programming error.
    if (!def) throw new Error(`targeting filter ${key} is not known`);
    const parsed = def.parse(String(value));
    if ("error" in parsed) throw new Error(`targeting filter ${key}: ${parsed.error}`);
    out.push(await def.toSql(parsed.value));
  }
  return out;
}

/**
 * Resolves a targeting to node ids (oldest node first) with one query: the
 * type's id or name set AND node filters AND cluster filters. Unknown node ids
 * or cluster names, and a targeting that matches nothing, are 422s.
 */
export async function resolveTargeting(db: Database, targeting: Targeting): Promise<string[]> {
  return (await resolveTargetingWithWarnings(db, targeting)).nodeIds;
}

/**
 * As `resolveTargeting`, with the warnings a caller should pass on: a hostname shared by several
 * nodes (all of them are targeted) and a hostname that matches no node (skipped, unlike an unknown
 * node id: hostnames are not unique keys and a fleet changes under a script that names them).
 */
export async function resolveTargetingWithWarnings(
  db: Database,
  targeting: Targeting,
): Promise<{ nodeIds: string[]; warnings: string[]; hostnames: Map<string, string> }> {
  const warnings: string[] = [];
  const filters = [
    ...(await conditions(NODE_FILTERS, targeting.node_filters)),
    ...(await conditions(CLUSTER_FILTERS, targeting.cluster_filters)),
  ];
  const where = and(...filters) ?? sql`1`;
  // The filters go in the select list for nodes/clusters, so the same query also tells which ids exist.
  const matched = sql`CASE WHEN ${where} THEN 1 ELSE 0 END`;
  const order = sql`ORDER BY ${nodes.insertedAt}, ${nodes.id}`;
  let nodeIds: string[];
  // Every matched node's hostname, from the same query (a synchronous answer names each node).
  let named: { node_id: string | null; name: string | null }[];

  if (targeting.type === "all") {
    const rows = await db.all<{ node_id: string; name: string }>(sql`
      SELECT ${nodes.id} AS node_id, ${nodes.hostname} AS name FROM ${nodes} INNER JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId}
      WHERE ${where} ${order}`);
    nodeIds = rows.map((r) => r.node_id);
    named = rows;
  } else if (targeting.type === "nodes") {
    const wanted = targeting.node_ids ?? [];
    const rows = await db.all<{ node_id: string; name: string; matched: number }>(sql`
      SELECT ${nodes.id} AS node_id, ${nodes.hostname} AS name, ${matched} AS matched
        FROM ${nodes} INNER JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId}
       WHERE ${nodes.id} IN (SELECT value FROM json_each(${JSON.stringify(wanted)})) ${order}`);
    const found = new Set(rows.map((r) => r.node_id));
    const unknown = wanted.filter((id) => !found.has(id));
    if (unknown.length > 0) {
      throw new ApiError("validation_failed", "Validation failed", {
        "targeting.node_ids": [`unknown node ids: ${listed(unknown)}`],
      });
    }
    nodeIds = rows.filter((r) => r.matched === 1).map((r) => r.node_id);
    named = rows;
  } else if (targeting.type === "hostnames") {
    const wanted = targeting.hostnames ?? [];
    const rows = await db.all<{ node_id: string; name: string; hostname: string; matched: number }>(sql`
      SELECT ${nodes.id} AS node_id, ${nodes.hostname} AS name, lower(${nodes.hostname}) AS hostname, ${matched} AS matched
        FROM ${nodes} INNER JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId}
       WHERE lower(${nodes.hostname}) IN (SELECT value FROM json_each(${JSON.stringify(wanted)})) ${order}`);
    const perName = new Map<string, number>();
    for (const r of rows) perName.set(r.hostname, (perName.get(r.hostname) ?? 0) + 1);
    const missing = wanted.filter((name) => !perName.has(name));
    if (missing.length > 0) warnings.push(`hostnames matching no node (skipped): ${listed(missing)}`);
    for (const [name, n] of perName)
      if (n > 1) warnings.push(`hostname ${name} matches ${n} nodes; all of them are targeted`);
    nodeIds = rows.filter((r) => r.matched === 1).map((r) => r.node_id);
    named = rows;
  } else {
    const wanted = targeting.cluster_names ?? [];
    const rows = await db.all<{
      cluster_name: string;
      node_id: string | null;
      name: string | null;
      matched: number;
    }>(sql`
      SELECT ${clusters.name} AS cluster_name, ${nodes.id} AS node_id, ${nodes.hostname} AS name, ${matched} AS matched
        FROM ${clusters} LEFT JOIN ${nodes} ON ${nodes.clusterId} = ${clusters.id}
       WHERE ${clusters.name} IN (SELECT value FROM json_each(${JSON.stringify(wanted)})) ${order}`);
    const found = new Set(rows.map((r) => r.cluster_name));
    const unknown = wanted.filter((name) => !found.has(name));
    if (unknown.length > 0) {
      throw new ApiError("validation_failed", "Validation failed", {
        "targeting.cluster_names": [`unknown clusters: ${listed(unknown)}`],
      });
    }
    nodeIds = rows.flatMap((r) => (r.node_id !== null && r.matched === 1 ? [r.node_id] : []));
    named = rows;
  }

  if (nodeIds.length === 0) {
    throw new ApiError("validation_failed", "targeting matched no nodes", {
      targeting: ["matched no nodes; check the ids, names and filters"],
    });
  }
  const hostnames = new Map<string, string>();
  for (const r of named) if (r.node_id !== null && r.name !== null) hostnames.set(r.node_id, r.name);
  return { nodeIds, warnings, hostnames };
}

/**
 * A targeting a cluster-scoped principal may store and have re-resolved later (self-update requests
 * and fleet inventory refreshes resolve again when they run, without the caller): node ids outside
 * the scope are dropped, cluster names are intersected with it, and `all` becomes the scope's
 * clusters. 403 when nothing in scope is left. Unknown ids and names stay 422s (checked first).
 */
export async function narrowTargeting(
  db: Database,
  targeting: Targeting,
  scope: readonly string[] | null,
): Promise<Targeting> {
  if (!scope) return targeting;
  const outside = () =>
    new ApiError("forbidden", "Every target lies outside this token's clusters", {
      targeting: [`this token is limited to clusters: ${scope.join(", ")}`],
    });
  if (targeting.type === "nodes") {
    await resolveTargeting(db, { type: "nodes", node_ids: targeting.node_ids });
    return { ...targeting, node_ids: await targetsInScope(db, targeting.node_ids ?? [], scope) };
  }
  const existing = await db.all<{ name: string }>(sql`
    SELECT ${clusters.name} AS name FROM ${clusters}
     WHERE ${clusters.name} IN (SELECT value FROM json_each(${JSON.stringify(scope)}))`);
  const inScope = new Set(existing.map((r) => r.name));
  if (targeting.type === "all") {
    if (inScope.size === 0) throw outside();
    const { node_ids: _ids, ...rest } = targeting;
    return { ...rest, type: "clusters", cluster_names: [...inScope].sort() };
  }
  await resolveTargeting(db, { type: "clusters", cluster_names: targeting.cluster_names });
  const kept = (targeting.cluster_names ?? []).filter((name) => inScope.has(name));
  if (kept.length === 0) throw outside();
  return { ...targeting, cluster_names: kept };
}
