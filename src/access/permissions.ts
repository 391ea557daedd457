// One permission grammar for routes, roles and token scopes: `<resource>:<action>`, where either part
// may be `*`, and `*` alone grants everything. A route declares the exact permission it needs; a role
// or scope holds patterns.

/** The resources and the actions each one has; a pattern naming anything else is refused (typos). */
export const PERMISSION_CATALOG = {
  clusters: ["read", "write"],
  nodes: ["read", "write"],
  node_registrations: ["read", "write"],
  enrollment_keys: ["read", "write"],
  commands: ["read", "execute"],
  ssh: ["read", "write"],
  webhooks: ["read", "write"],
  self_update: ["read", "write"],
  admins: ["read"],
  events: ["read"],
  metrics: ["read"],
  alerts: ["read", "write"],
  alert_silences: ["read", "write"],
  notification_channels: ["read", "write"],
  users: ["read", "write"],
  roles: ["read", "write"],
  // `admin`: other principals' tokens too; without it a principal sees and revokes only its own.
  api_tokens: ["read", "write", "admin"],
  audit: ["read"],
  settings: ["read", "write"],
  power: ["read", "manage"],
  services: ["manage"],
  containers: ["manage"],
  // Reaching into a node (issue 20): reading is separate from acting.
  processes: ["read", "signal"],
  logs: ["read"],
  files: ["read", "write"],
} as const satisfies Record<string, readonly string[]>;

type Catalog = typeof PERMISSION_CATALOG;
/** A concrete permission a route can require, e.g. `nodes:read`. */
export type Permission = { [R in keyof Catalog]: `${R}:${Catalog[R][number]}` }[keyof Catalog];

/** Routes open to every authenticated principal (their own session, their own profile). */
export const AUTHENTICATED = "authenticated" as const;

/** What a route spec declares: a permission, or that any authenticated principal may call it. */
export type RoutePermission = Permission | typeof AUTHENTICATED;

/** System roles: fixed ids (seeded by the migration), immutable through the API. */
export const SYSTEM_ROLES = [
  {
    id: "00000000-0000-4000-8000-000000000001",
    name: "admin",
    description: "Everything",
    permissions: ["*"],
  },
  {
    id: "00000000-0000-4000-8000-000000000002",
    name: "operator",
    description: "Runs the fleet: everything but users, roles, other principals' tokens and settings",
    permissions: [
      "clusters:*",
      "nodes:*",
      "enrollment_keys:*",
      "commands:*",
      "ssh:*",
      "webhooks:*",
      "self_update:*",
      "admins:read",
      "events:read",
      "metrics:read",
      "alerts:*",
      "node_registrations:read",
      "node_registrations:write",
      "api_tokens:read",
      "api_tokens:write",
      "audit:read",
      "alert_silences:*",
      "notification_channels:*",
      "power:read",
      "power:manage",
      "services:manage",
      "containers:manage",
      "processes:read",
      "processes:signal",
      "logs:read",
      "files:read",
      "files:write",
    ],
  },
  {
    id: "00000000-0000-4000-8000-000000000003",
    name: "viewer",
    description: "Reads everything",
    permissions: ["*:read"],
  },
] as const;

export const ADMIN_ROLE_ID = SYSTEM_ROLES[0].id;

const PATTERN = /^(\*|[a-z_]+:(\*|[a-z_]+))$/;

/** Why a permission pattern is not valid, or null when it is. */
export function patternError(pattern: string): string | null {
  if (!PATTERN.test(pattern)) return `"${pattern}" is not <resource>:<action> (either may be *), or *`;
  if (pattern === "*") return null;
  const [resource, action] = pattern.split(":");
  if (resource === "*") {
    const known = Object.values(PERMISSION_CATALOG).some((actions) =>
      (actions as readonly string[]).includes(action),
    );
    return known || action === "*" ? null : `"${pattern}": no resource has the action "${action}"`;
  }
  const actions = (PERMISSION_CATALOG as Record<string, readonly string[]>)[resource];
  if (!actions) return `"${pattern}": unknown resource "${resource}"`;
  if (action !== "*" && !actions.includes(action))
    return `"${pattern}": "${resource}" has no action "${action}" (${actions.join(", ")})`;
  return null;
}

function segmentCovers(held: string, wanted: string): boolean {
  return held === "*" || held === wanted;
}

/**
 * Whether one held pattern covers a wanted permission or pattern: `nodes:*` covers `nodes:read` and
 * `nodes:*`; `*:read` covers `users:read`; `*` covers everything; `nodes:read` does not cover `nodes:*`.
 */
export function patternCovers(held: string, wanted: string): boolean {
  if (held === "*") return true;
  if (wanted === "*") return false;
  const [hr, ha] = held.split(":");
  const [wr, wa] = wanted.split(":");
  return segmentCovers(hr, wr) && segmentCovers(ha, wa);
}

/**
 * Whether a set of held patterns grants `wanted` (a permission, or a pattern for scope checks).
 * @example grants(["nodes:*"], "nodes:write") // true
 */
export function grants(held: readonly string[], wanted: string): boolean {
  return held.some((p) => patternCovers(p, wanted));
}

/** The patterns of `wanted` that `held` does not cover (empty when every one is covered). */
export function uncovered(held: readonly string[], wanted: readonly string[]): string[] {
  return wanted.filter((w) => !grants(held, w));
}
