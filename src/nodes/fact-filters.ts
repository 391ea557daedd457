import { and, type SQL, sql } from "drizzle-orm";
import { nodePackages, nodes, nodeTags, nodeUpdates } from "../db/schema";
import { booleanFilter, type FilterDef, textFilter } from "../list-query/filters";
import { MAX_TAGS, TAG_PATTERN } from "./metadata";

// The node list's filters on what the agent reports and what operators set (issue 18). They are
// spread into nodeListSpec, so `GET /nodes`, `GET /nodes/summary`, `GET /updates/summary` and
// command targeting (`node_filters`) share them.

const wildcard = (what: string, example: string) =>
  `Filter by ${what} (exact match or wildcard with *: ${example})`;

/** `tags=web,prod`: a node must carry every listed tag. */
function tagsFilter(): FilterDef<string[]> {
  return {
    description:
      "Comma-separated tags; a node must carry all of them (e.g. `web,env:prod`). Tags are compared lower-cased.",
    type: "string",
    parse(raw) {
      const tags = [...new Set(raw.split(",").map((t) => t.trim().toLowerCase()))];
      if (tags.length === 0 || tags.some((t) => t === ""))
        return { error: "must be a comma-separated list of tags" };
      if (tags.length > MAX_TAGS) return { error: `must list at most ${MAX_TAGS} tags` };
      const bad = tags.find((t) => !TAG_PATTERN.test(t));
      if (bad !== undefined) return { error: `"${bad}" is not a valid tag (a-z, 0-9, _.:=-)` };
      return { value: tags };
    },
    toSql(tags) {
      const each = tags.map(
        (tag) =>
          sql`EXISTS (SELECT 1 FROM ${nodeTags} WHERE ${nodeTags.nodeId} = ${nodes.id} AND ${nodeTags.tag} = ${tag})`,
      );
      return and(...each) ?? sql`1 = 1`;
    },
  };
}

// GLOB when the value has a wildcard, equality otherwise: the (name, version, node) index serves both.
function matchText(expr: SQL, value: string): SQL {
  if (!value.includes("*")) return sql`${expr} = ${value}`;
  const pattern = value
    .split("*")
    .map((part) => part.replace(/[?[]/g, (ch) => `[${ch}]`))
    .join("*");
  return sql`${expr} GLOB ${pattern}`;
}

function parsePackageText(raw: string): { value: string } | { error: string } {
  if (raw.length === 0) return { error: "must not be empty" };
  if (raw.length > 256) return { error: "must be at most 256 characters" };
  return { value: raw };
}

function hasPackage(name: string | undefined, version: string | undefined): SQL {
  const conditions = [sql`p.node_id = ${nodes.id}`];
  if (name !== undefined) conditions.push(matchText(sql`p.name`, name));
  if (version !== undefined) conditions.push(matchText(sql`p.version`, version));
  return sql`EXISTS (SELECT 1 FROM ${nodePackages} p WHERE ${sql.join(conditions, sql` AND `)})`;
}

/** `package` (and `package_version`): nodes with an installed package matching both, in one row. */
function packageFilters(): Record<string, FilterDef<string>> {
  return {
    package: {
      description: wildcard("installed package name", "openssl, libssl*"),
      type: "string",
      parse: parsePackageText,
      toSql: (name, others) => hasPackage(name, others?.get("package_version") as string | undefined),
    },
    package_version: {
      description:
        "Filter by installed package version (exact or wildcard: 3.0.*). With `package`, both must match the same package.",
      type: "string",
      parse: parsePackageText,
      // With `package` present the pair is one condition, written by `package`.
      toSql: (version, others) => (others?.has("package") ? sql`1 = 1` : hasPackage(undefined, version)),
    },
  };
}

function countAtLeast(column: SQL, what: string): FilterDef<number> {
  return {
    description: `Nodes with at least this many ${what} (nodes that have not reported updates never match)`,
    type: "integer",
    parse: (raw) =>
      /^\d{1,9}$/.test(raw) ? { value: Number(raw) } : { error: "must be a non-negative integer" },
    toSql: (n) =>
      sql`${nodes.id} IN (SELECT ${nodeUpdates.nodeId} FROM ${nodeUpdates} WHERE ${column} >= ${n})`,
  };
}

/** Filters on reported facts, operator fields, installed packages and pending updates. */
export const nodeFactFilters: Record<string, FilterDef> = {
  hostname: textFilter(sql`${nodes.hostname}`, wildcard("hostname", "web-*")),
  display_name: textFilter(sql`${nodes.displayName}`, wildcard("display name", "Shop *")),
  os_version: textFilter(sql`${nodes.osVersion}`, wildcard("OS version (PRETTY_NAME)", "Ubuntu 22.04*")),
  platform: textFilter(sql`${nodes.platform}`, wildcard("platform", "linux")),
  arch: textFilter(sql`${nodes.arch}`, wildcard("CPU architecture", "arm*")),
  tags: tagsFilter() as FilterDef,
  ...(packageFilters() as Record<string, FilterDef>),
  pending_updates__gte: countAtLeast(sql`${nodeUpdates.pendingCount}`, "pending updates") as FilterDef,
  security_updates__gte: countAtLeast(
    sql`${nodeUpdates.securityCount}`,
    "pending security updates",
  ) as FilterDef,
  reboot_required: booleanFilter(
    "Filter by whether the node reports that a reboot is required (nodes that have not reported updates count as false)",
    (on) =>
      on
        ? sql`${nodes.id} IN (SELECT ${nodeUpdates.nodeId} FROM ${nodeUpdates} WHERE ${nodeUpdates.rebootRequired} = 1)`
        : sql`${nodes.id} NOT IN (SELECT ${nodeUpdates.nodeId} FROM ${nodeUpdates} WHERE ${nodeUpdates.rebootRequired} = 1)`,
  ),
};
