import { type Command, Option } from "commander";
import type { operations } from "../api-types";
import { ok } from "../client";
import { session } from "../context";
import { CliError } from "../errors";
import { addFilterFlags, addPagingFlags, collect, listQuery } from "../lists";
import { findNode, type Node } from "../nodes-lookup";
import { ago, printFields, printJson, printTable } from "../output";

type NodeQuery = NonNullable<operations["get_nodes"]["parameters"]["query"]>;
type NodeFilter = Exclude<keyof NodeQuery, "order_by" | "order_directions" | "page" | "page_size">;

/** The node list's filters (GET /api/v1/nodes); a filter the API drops fails to compile here. */
export const NODE_FILTERS = {
  cluster_name: "cluster name (wildcards: prod*)",
  hostname: "hostname (wildcards: web-*)",
  display_name: "display name (wildcards)",
  status: "healthy, unhealthy or unreachable",
  tags: "comma-separated tags the node must all carry (web,env:prod)",
  version: "agent version (wildcards: 1.*)",
  os_version: "OS version (wildcards: Ubuntu 22.*)",
  platform: "platform (linux)",
  arch: "CPU architecture (wildcards: arm*)",
  id_type: "persistent or random",
  self_update_enabled: "true or false",
  package: "installed package name (wildcards)",
  package_version: "installed package version, with --package",
  pending_updates__gte: "at least this many pending updates",
  security_updates__gte: "at least this many pending security updates",
  reboot_required: "true or false",
  last_seen_at__gte: "last seen at or after (ISO 8601)",
  last_seen_at__lte: "last seen at or before (ISO 8601)",
  inserted_at__gte: "enrolled at or after (ISO 8601)",
  inserted_at__lte: "enrolled at or before (ISO 8601)",
  updated_at__gte: "updated at or after (ISO 8601)",
  updated_at__lte: "updated at or before (ISO 8601)",
  cpu_usage_percent__gte: "latest CPU % at least this",
  cpu_usage_percent__lte: "latest CPU % at most this",
  memory_usage_percent__gte: "latest memory % at least this",
  memory_usage_percent__lte: "latest memory % at most this",
  disk_usage_percent__gte: "latest disk % at least this",
  disk_usage_percent__lte: "latest disk % at most this",
  load_1m__gte: "latest 1-minute load at least this",
  load_1m__lte: "latest 1-minute load at most this",
} satisfies Record<NodeFilter, string>;

function nodeRow(n: Node) {
  return [n.id, n.hostname, n.status, n.cluster_name, n.tags, n.os_version, n.version, ago(n.last_seen_at)];
}

/** Registers `outpost nodes ls|show|tag|delete`. */
export function registerNodes(program: Command): void {
  const nodes = program.command("nodes").description("list, inspect, tag and delete nodes");

  const ls = nodes
    .command("ls")
    .alias("list")
    .description("list nodes (filters, sorting and paging as flags)");
  addPagingFlags(addFilterFlags(ls, NODE_FILTERS)).action(async (options, command: Command) => {
    const { api, json } = await session(command);
    const { rows, total } = await collect(
      async (query) => ok(await api.GET("/api/v1/nodes", { params: { query: query as NodeQuery } })),
      listQuery(options, NODE_FILTERS),
      options.all === true,
    );
    if (json) return printJson(rows);
    printTable(
      ["id", "hostname", "status", "cluster", "tags", "os", "agent", "last seen"],
      rows.map((n) => nodeRow(n as Node)),
      "no nodes match",
    );
    if (rows.length < total)
      process.stderr.write(`${rows.length} of ${total} nodes (--all for every page)\n`);
  });

  nodes
    .command("show")
    .description("show one node (by id or hostname)")
    .argument("<node>", "node id or hostname")
    .action(async (ref: string, _options, command: Command) => {
      const { api, json } = await session(command);
      const node = await findNode(api, ref);
      if (json) return printJson(node);
      printFields([
        ["id", node.id],
        ["hostname", node.hostname],
        ["display name", node.display_name],
        ["status", node.status],
        ["cluster", node.cluster_name],
        ["tags", node.tags],
        ["os", node.os_version],
        ["kernel", node.kernel],
        ["platform", [node.platform, node.arch].filter(Boolean).join("/")],
        ["primary ip", node.primary_ip],
        ["agent version", node.version],
        ["self update", node.self_update_enabled],
        ["last seen", node.last_seen_at ? `${node.last_seen_at} (${ago(node.last_seen_at)})` : "never"],
        ["enrolled", node.inserted_at],
        ["notes", node.notes],
      ]);
    });

  nodes
    .command("tag")
    .description("add tags to a node (or remove them with --remove, or replace them all with --set)")
    .argument("<node>", "node id or hostname")
    .argument("[tags...]", "tags (lower case: web, env:prod)")
    .addOption(new Option("--remove", "remove these tags").conflicts("set"))
    .option("--set", "replace the node's tags with these (none: clear them)")
    .action(async (ref: string, tags: string[], options, command: Command) => {
      const { api, json } = await session(command);
      const node = await findNode(api, ref);
      if (tags.length === 0 && !options.set)
        throw new CliError("name at least one tag (or --set with none to clear)");
      const next = options.set
        ? tags
        : options.remove
          ? node.tags.filter((t) => !tags.includes(t))
          : [...new Set([...node.tags, ...tags])];
      const updated = ok(
        await api.PATCH("/api/v1/nodes/{id}", { params: { path: { id: node.id } }, body: { tags: next } }),
      ).data;
      if (json) return printJson(updated);
      process.stdout.write(`${updated.hostname ?? updated.id}: ${updated.tags.join(",") || "(no tags)"}\n`);
    });

  nodes
    .command("delete")
    .alias("rm")
    .description("delete a node (its agent is disconnected and must enrol again)")
    .argument("<node>", "node id or hostname")
    .option("--block-reenroll", "refuse this node id if its agent tries to enrol again")
    .option("-y, --yes", "do not ask for confirmation")
    .action(async (ref: string, options, command: Command) => {
      const { api, json } = await session(command);
      const node = await findNode(api, ref);
      if (!options.yes) {
        const { confirm } = await import("../prompt");
        if (!(await confirm(`Delete node ${node.hostname ?? ""} (${node.id})?`))) {
          throw new CliError("not deleted (pass --yes to skip this question)");
        }
      }
      ok(
        await api.DELETE("/api/v1/nodes/{id}", {
          params: {
            path: { id: node.id },
            query: options.blockReenroll ? { block_reenroll: "true" } : {},
          },
        }),
      );
      if (json) return printJson({ deleted: node.id });
      process.stdout.write(`deleted node ${node.id}\n`);
    });
}
