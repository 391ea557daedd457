// `outpost run [targeting] -- <command>`: creates the command, follows every execution's output
// stream (lines prefixed by hostname), keeps a progress line on a terminal, ends with the exit-code
// summary, and exits non-zero when any node failed (non-zero exit, expired or cancelled).
import type { Command } from "commander";
import type { operations } from "../api-types";
import { type ApiClient, ok, rawRequest } from "../client";
import type { Credentials } from "../config";
import { session } from "../context";
import { CliError } from "../errors";
import { addFilterFlags, collect, listQuery } from "../lists";
import { LiveOutput } from "../live-output";
import { findNode, nodeLabel } from "../nodes-lookup";
import { printJson } from "../output";
import { Progress } from "../progress";
import { readEvents } from "../sse";
import { expiryFrom } from "../time";

type CreateBody = operations["post_commands"]["requestBody"]["content"]["application/json"];
type Targeting = CreateBody["targeting"];
type NodeFilterKey = keyof NonNullable<Targeting["node_filters"]>;
type Execution =
  operations["get_command_executions"]["responses"][200]["content"]["application/json"]["data"][number];
type Summary = operations["get_commands_id_summary"]["responses"][200]["content"]["application/json"]["data"];

/** The node filters a command's targeting takes; a filter the API drops fails to compile here. */
const TARGET_FILTERS = {
  hostname: "nodes whose hostname matches (wildcards: web-*)",
  tags: "nodes carrying all these tags (web,env:prod)",
  status: "healthy, unhealthy or unreachable",
  cluster_name: "nodes in clusters matching this name (wildcards)",
  version: "agent version (wildcards)",
  id_type: "persistent or random",
  self_update_enabled: "true or false",
  last_seen_at__gte: "last seen at or after (ISO 8601)",
  last_seen_at__lte: "last seen at or before (ISO 8601)",
  inserted_at__gte: "enrolled at or after (ISO 8601)",
  inserted_at__lte: "enrolled at or before (ISO 8601)",
  updated_at__gte: "updated at or after (ISO 8601)",
  updated_at__lte: "updated at or before (ISO 8601)",
} satisfies Record<NodeFilterKey, string>;

const STREAMS_AT_ONCE = 32;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new CliError(`'${text}' is not a duration (30s, 5m, 1h)`);
  return Number(match[1]) * DURATION_MS[match[2] ?? "s"];
}

async function targeting(api: ApiClient, options: Record<string, unknown>): Promise<Targeting> {
  const filters = listQuery(options, TARGET_FILTERS) as Record<string, unknown>;
  for (const key of ["self_update_enabled"]) if (key in filters) filters[key] = filters[key] === "true";
  const node_filters = Object.keys(filters).length ? (filters as Targeting["node_filters"]) : undefined;
  const nodes = options.node as string[] | undefined;
  const clusters = options.cluster as string[] | undefined;
  if ([nodes, clusters, options.all].filter(Boolean).length > 1) {
    throw new CliError("choose one of --node, --cluster and --all (filters narrow any of them)");
  }
  if (nodes) {
    const ids = await Promise.all(nodes.map(async (ref) => (await findNode(api, ref)).id));
    return { type: "nodes", node_ids: ids, ...(node_filters ? { node_filters } : {}) };
  }
  if (clusters)
    return { type: "clusters", cluster_names: clusters, ...(node_filters ? { node_filters } : {}) };
  if (!options.all && !node_filters) {
    throw new CliError("say where to run it: --node, --cluster, a filter (--tags, --hostname, …) or --all");
  }
  return { type: "all", ...(node_filters ? { node_filters } : {}) };
}

async function executionsOf(api: ApiClient, commandId: string): Promise<Execution[]> {
  const { rows } = await collect(
    async (query) => ok(await api.GET("/api/v1/command_executions", { params: { query } })),
    { command_id: commandId },
    true,
  );
  return rows;
}

async function labelsOf(api: ApiClient, executions: Execution[]): Promise<Map<string, string>> {
  const byNode = new Map<string, string>();
  const nodeIds = [...new Set(executions.map((e) => e.node_id).filter((id): id is string => Boolean(id)))];
  // A few nodes one by one; a fleet in pages of 100 (fewer requests than one per node).
  if (nodeIds.length <= 20) {
    await Promise.all(
      nodeIds.map(async (id) => {
        const res = await api.GET("/api/v1/nodes/{id}", { params: { path: { id } } });
        if (res.data) byNode.set(id, nodeLabel(res.data.data));
      }),
    );
  } else {
    const { rows } = await collect(
      async (query) => ok(await api.GET("/api/v1/nodes", { params: { query } })),
      {},
      true,
    );
    for (const node of rows) byNode.set(node.id, nodeLabel(node));
  }
  return new Map(
    executions.map((e) => [
      e.id,
      (e.node_id && byNode.get(e.node_id)) || e.node_id?.slice(0, 8) || e.id.slice(0, 8),
    ]),
  );
}

/** Follows one execution's stream until its `end`, opening it again when the server closes it early. */
async function follow(
  credentials: Credentials,
  executionId: string,
  offer: (text: string) => void,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    let got = "";
    try {
      const res = await rawRequest(credentials, `/api/v1/command_executions/${executionId}/stream`, {
        headers: { Accept: "text/event-stream" },
        signal,
      });
      if (!res.body) return;
      for await (const event of readEvents(res.body)) {
        if (event.event === "output") {
          got += (JSON.parse(event.data) as { chunk: string }).chunk;
          offer(got);
        } else if (event.event === "end") {
          return;
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      // 503: the node's stream slots are taken; the stored output is printed at the end anyway.
      if (!(error instanceof CliError)) throw error;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Runs `tasks` with at most `limit` at once. */
async function pool(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

const failed = (e: Execution) => e.status !== "completed" || (e.exit_code ?? 0) !== 0;

function summaryLines(summary: Summary, executions: Execution[], labels: Map<string, string>): string[] {
  const codes = Object.entries(summary.exit_codes)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([code, n]) => `exit ${code}: ${n}`);
  const other = (["pending", "sent", "cancelled", "expired"] as const)
    .filter((s) => summary.counts[s] > 0)
    .map((s) => `${s}: ${summary.counts[s]}`);
  const lines = [`${summary.total} node(s) — ${[...codes, ...other].join(", ") || "nothing ran"}`];
  const bad = executions.filter(failed);
  if (bad.length) {
    lines.push(
      `failed on ${bad.length}: ${bad
        .slice(0, 20)
        .map((e) => `${labels.get(e.id)} (${e.status === "completed" ? `exit ${e.exit_code}` : e.status})`)
        .join(", ")}${bad.length > 20 ? ", …" : ""}`,
    );
  }
  return lines;
}

/** Registers `outpost run`. */
export function registerRun(program: Command): void {
  const run = program
    .command("run")
    .description("run a shell command on nodes and watch every node's output live")
    .argument("<command...>", "the command (put it after --: outpost run --all -- uname -a)")
    .option("--node <node...>", "nodes by id or hostname")
    .option("--cluster <name...>", "every node of these clusters")
    .option("--all", "every node (filters still narrow it)")
    .option("--timeout <duration>", "stop the command after this long on each node (30s, 5m)")
    .option("--expires <when>", "give up on nodes that have not run it by then (10m, or ISO 8601)")
    .option("--detach", "print the command id and return at once");
  addFilterFlags(run, TARGET_FILTERS).action(async (words: string[], options, command: Command) => {
    const { api, credentials, json } = await session(command);
    const body: CreateBody = {
      command_text: words.join(" "),
      targeting: await targeting(api, options),
      ...(options.timeout ? { timeout: durationMs(options.timeout) } : {}),
      ...(options.expires ? { expired_at: expiryFrom(options.expires) } : {}),
    };
    const created = ok(await api.POST("/api/v1/commands", { body })).data;
    if (options.detach) {
      if (json) return printJson(created);
      process.stdout.write(`${created.id}\n`);
      return;
    }
    const executions = await executionsOf(api, created.id);
    const labels = await labelsOf(api, executions);
    const progress = new Progress(!json && process.stderr.isTTY === true);
    const live = new LiveOutput(labels, {
      write: (text) => progress.around(() => process.stdout.write(text)),
    });

    const stop = new AbortController();
    process.once("SIGINT", () => {
      stop.abort();
      progress.clear();
      process.stderr.write(
        `\ndetached: command ${created.id} keeps running (outpost run does not cancel it)\n`,
      );
      process.exit(130);
    });

    const streaming = json
      ? Promise.resolve()
      : pool(
          executions.map(
            (e) => () => follow(credentials, e.id, (text) => live.of(e.id).offer(text), stop.signal),
          ),
          STREAMS_AT_ONCE,
        );
    let summary: Summary;
    for (;;) {
      summary = ok(
        await api.GET("/api/v1/commands/{id}/summary", { params: { path: { id: created.id } } }),
      ).data;
      progress.show(summary);
      if (summary.counts.pending + summary.counts.sent === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    // Every execution has ended: its stream is about to deliver `end`; don't wait on stragglers.
    await Promise.race([streaming, new Promise((r) => setTimeout(r, 2000))]);
    stop.abort();
    progress.clear();
    const final = await executionsOf(api, created.id);
    if (json) {
      printJson({
        command: created,
        summary,
        executions: final.map((e) => ({ ...e, hostname: labels.get(e.id) })),
      });
    } else {
      for (const e of final) live.of(e.id).finish(e.output);
      for (const line of summaryLines(summary, final, labels)) process.stderr.write(`${line}\n`);
    }
    if (final.some(failed)) process.exitCode = 1;
  });
}
