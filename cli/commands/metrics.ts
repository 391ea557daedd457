import type { Command } from "commander";
import type { operations } from "../api-types";
import { ok } from "../client";
import { session } from "../context";
import { CliError } from "../errors";
import { findNode, nodeLabel } from "../nodes-lookup";
import { printJson } from "../output";
import { sparkline } from "../sparkline";

type HistoryQuery = NonNullable<operations["get_nodes_node_id_metrics_history"]["parameters"]["query"]>;
type Range = NonNullable<HistoryQuery["range"]>;
const RANGES: Range[] = ["1h", "6h", "24h", "7d", "30d", "90d", "400d"];
const PERCENT = new Set(["cpu", "memory", "disk"]);

/** Registers `outpost metrics <node>`: a sparkline per series from the metrics history endpoint. */
export function registerMetrics(program: Command): void {
  program
    .command("metrics")
    .description("a node's CPU, memory and disk over time, as terminal sparklines")
    .argument("<node>", "node id or hostname")
    .option("--range <range>", `window ending now: ${RANGES.join(", ")}`, "24h")
    .option("--metrics <list>", "series: cpu, memory, disk, load_1m, load_5m, load_15m", "cpu,memory,disk")
    .action(async (ref: string, options, command: Command) => {
      const { api, json } = await session(command);
      if (!RANGES.includes(options.range)) throw new CliError(`--range must be one of ${RANGES.join(", ")}`);
      const node = await findNode(api, ref);
      const series: string[] = options.metrics.split(",").map((s: string) => s.trim());
      const label = Math.max(...series.map((s) => s.length));
      const width = Math.max(10, Math.min(240, (process.stdout.columns || 100) - label - 40));
      const history = ok(
        await api.GET("/api/v1/nodes/{node_id}/metrics/history", {
          params: {
            path: { node_id: node.id },
            query: { range: options.range, metrics: series.join(","), max_points: String(width) },
          },
        }),
      ).data;
      if (json) return printJson(history);
      const from = Date.parse(history.from);
      const step = history.step_seconds * 1000;
      const slots = Math.max(1, Math.min(width, Math.ceil((Date.parse(history.to) - from) / step)));
      process.stdout.write(
        `${nodeLabel(node)}  ${history.from} → ${history.to}  (${history.resolution}, ${history.step_seconds}s steps)\n`,
      );
      for (const name of series) {
        const values: (number | null)[] = new Array(slots).fill(null);
        const all: number[] = [];
        let min = Number.POSITIVE_INFINITY;
        let max = Number.NEGATIVE_INFINITY;
        for (const point of history.points) {
          const stat = (point as Record<string, unknown>)[name] as
            | { avg: number; min: number; max: number }
            | undefined;
          if (!stat) continue;
          const slot = Math.min(
            slots - 1,
            Math.max(0, Math.floor((Date.parse(point.timestamp) - from) / step)),
          );
          values[slot] = stat.avg;
          all.push(stat.avg);
          min = Math.min(min, stat.min);
          max = Math.max(max, stat.max);
        }
        const unit = PERCENT.has(name) ? "%" : "";
        const fmt = (v: number) => `${v.toFixed(1)}${unit}`;
        const line = all.length
          ? `${sparkline(values, width, PERCENT.has(name) ? { min: 0, max: 100 } : {})}  now ${fmt(all[all.length - 1])}  avg ${fmt(all.reduce((a, b) => a + b, 0) / all.length)}  min ${fmt(min)}  max ${fmt(max)}`
          : "no samples in this window";
        process.stdout.write(`${name.padEnd(label)}  ${line}\n`);
      }
    });
}
