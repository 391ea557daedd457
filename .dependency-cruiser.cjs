/**
 * The layers of Outpost, checked by `npm run check:layers` (dependency-cruiser).
 *
 *   src/              the ground floor: domain code, config, logger, the agent wire protocol
 *   durable-objects/  NodeSession and BatchWriter; build on src/
 *   workers/          the Worker: routes, services, gateway, cron; build on src/ and durable-objects/
 *   agent/            the Node agent; shares only the wire protocol (src/protocol/)
 *
 * Type-only imports count (`tsPreCompilationDeps`): a type cycle is still a cycle for a reader.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: "src-is-the-ground-floor",
      comment: "src/ imports nothing from the layers built on it; move the shared piece into src/ instead.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(workers|durable-objects|agent)/" },
    },
    {
      name: "agent-shares-only-the-protocol",
      comment:
        "The agent is bundled for the hosts: it imports nothing of the Worker or the Durable Objects, and from src/ only the wire protocol.",
      severity: "error",
      from: { path: "^agent/" },
      to: { path: "^(workers|durable-objects)/|^src/", pathNot: "^src/protocol/" },
    },
    {
      name: "durable-objects-stay-below-the-worker",
      comment:
        "The Worker calls the Durable Objects, never the other way round: they take what they need from src/.",
      severity: "error",
      from: { path: "^durable-objects/" },
      to: { path: "^workers/" },
    },
    {
      name: "services-never-import-routes",
      comment: "A route calls a service; what both need (schemas, list specs) belongs in src/<resource>/.",
      severity: "error",
      from: { path: "^workers/services/" },
      to: { path: "^workers/routes/" },
    },
    {
      name: "routes-never-import-routes",
      comment:
        "Each route module stands alone; a piece two routes share belongs in src/<resource>/ or a service.",
      severity: "error",
      from: { path: "^workers/routes/([^/]+)$" },
      to: { path: "^workers/routes/", pathNot: "^workers/routes/$1$" },
    },
    {
      name: "no-cycles",
      comment: "Import cycles (type-only ones included) hide which layer a module belongs to.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    includeOnly: "^(src|workers|durable-objects|agent)/",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".mjs", ".js", ".json"] },
    builtInModules: { add: ["cloudflare:workers", "cloudflare:test", "cloudflare:sockets"] },
  },
};
