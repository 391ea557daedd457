import type { Command } from "commander";
import type { operations } from "../api-types";
import { ok } from "../client";
import { session } from "../context";
import { addFilterFlags, addPagingFlags, collect, listQuery } from "../lists";
import { findNode } from "../nodes-lookup";
import { ago, printJson, printTable } from "../output";

type AlertQuery = NonNullable<operations["get_alerts"]["parameters"]["query"]>;
type AlertFilter = Exclude<keyof AlertQuery, "order_by" | "order_directions" | "page" | "page_size">;

const ALERT_FILTERS = {
  status: "firing or resolved",
  level: "warning or critical",
  metric: "cpu, memory, disk, load_1m, load_5m, load_15m",
  node_id: "node id (or use --node with a hostname)",
  rule_id: "alert rule id",
  acknowledged: "true or false",
  cleared: "true or false",
  started_at__gte: "started at or after (ISO 8601)",
  started_at__lte: "started at or before (ISO 8601)",
  resolved_at__gte: "resolved at or after (ISO 8601)",
  resolved_at__lte: "resolved at or before (ISO 8601)",
} satisfies Record<AlertFilter, string>;

/** Registers `outpost alerts ls|ack`. */
export function registerAlerts(program: Command): void {
  const alerts = program.command("alerts").description("metric alerts");

  const ls = alerts
    .command("ls")
    .alias("list")
    .description("list alerts (default: firing)")
    .option("--node <node>", "a node's alerts (id or hostname)")
    .option("--any-status", "firing and resolved");
  addPagingFlags(addFilterFlags(ls, ALERT_FILTERS)).action(async (options, command: Command) => {
    const { api, json } = await session(command);
    const query = listQuery(options, ALERT_FILTERS);
    if (!query.status && !options.anyStatus) query.status = "firing";
    if (options.node) query.node_id = (await findNode(api, options.node)).id;
    const { rows } = await collect(
      async (q) => ok(await api.GET("/api/v1/alerts", { params: { query: q as AlertQuery } })),
      query,
      options.all === true,
    );
    if (json) return printJson(rows);
    printTable(
      ["id", "node", "metric", "level", "status", "value", "threshold", "started", "acked"],
      rows.map((a) => [
        a.id,
        a.node_id.slice(0, 8),
        a.metric,
        a.level,
        a.status,
        a.value.toFixed(1),
        a.threshold,
        ago(a.started_at),
        a.acknowledged ? "yes" : "no",
      ]),
      "no alerts",
    );
  });

  alerts
    .command("ack")
    .description("acknowledge alerts")
    .argument("<id...>", "alert ids")
    .action(async (ids: string[], _options, command: Command) => {
      const { api, json } = await session(command);
      const done = [];
      for (const id of ids) {
        done.push(ok(await api.PATCH("/api/v1/alerts/{id}/acknowledge", { params: { path: { id } } })).data);
      }
      if (json) return printJson(done);
      for (const a of done)
        process.stdout.write(`acknowledged ${a.id} (${a.metric} ${a.level} on ${a.node_id})\n`);
    });
}
