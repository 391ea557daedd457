import type { Hono } from "hono";
import * as v from "valibot";
import { nodeClusterName } from "../../src/access/cluster-scope";
import { ApiError } from "../../src/errors";
import { LogFilterParams, LogQueryParams, NodeLogEntrySchema } from "../../src/node-logs/schema";
import { getNode } from "../../src/nodes/store";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { callNode, unwrap } from "../services/node-reach";
import { nodeSession } from "../services/node-sessions";

const TAG = "Nodes.Logs";
const nodeParam = { node_id: { schema: UuidParam, description: "Node UUID" } } as const;
const scope = { param: { name: "node_id", clusterName: nodeClusterName } } as const;

/** Registers a node's logs: a query (cursor-paged, newest first) and a live tail as Server-Sent Events. */
export function registerNodeLogRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/logs",
      permission: "logs:read",
      clusterScope: scope,
      tag: TAG,
      summary: "Query a node's logs",
      description:
        "Read on the node by its agent (journald through `journalctl`, or a file under the node's allowed log paths, default `/var/log`), newest first. Paged by cursor: `meta.pagination` has `page_size`, `has_next` and `next_cursor`, and no total (journald cannot count cheaply). `q` is a case-insensitive substring; a scan stops after 50,000 lines or 5 s and then says `meta.scan_truncated: true` (go on with `next_cursor`). A path outside the allowed ones → 403; a node without journald → 409.",
      params: nodeParam,
      query: LogQueryParams,
      success: {
        status: 200,
        description: "Entries, newest first",
        data: NodeLogEntrySchema,
        paginated: "cursor",
      },
      errors: [403, 404, 409, 503],
    },
    async (c, { params, query }) => {
      if (query.from !== undefined && query.to !== undefined && query.from > query.to)
        throw new ApiError("bad_request", "Invalid request parameters", { from: ["must not be after to"] });
      const page = await callNode(c.env, c.get("db"), params.node_id, "logs.query", {
        source: query.source,
        source_name: query.source_name,
        levels: query.level,
        q: query.q,
        since: query.from,
        until: query.to,
        limit: query.page_size,
        cursor: query.cursor,
      });
      return {
        data: page.entries.map((e) => ({ ...e, node_id: params.node_id })),
        pagination: {
          page_size: query.page_size,
          has_next: page.next_cursor !== null,
          next_cursor: page.next_cursor,
        },
        scan_truncated: page.scan_truncated,
      };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/logs/stream",
      permission: "logs:read",
      clusterScope: scope,
      tag: TAG,
      summary: "Tail a node's logs",
      description:
        "Server-Sent Events: `event: log` with the entry as `data` and its `id:` (a journald cursor or a file offset), so a reconnect with `Last-Event-ID` resumes where it stopped. Each subscriber gets at most 200 lines/s; past it `event: dropped {count}`. Subscribers with the same filters share one stream from the agent. The stream ends with `event: end {reason}` after `STREAM_MAX_LIFETIME_SECONDS`, or when the agent disconnects (open it again to go on).",
      params: nodeParam,
      query: LogFilterParams,
      success: {
        status: 200,
        description: "Server-Sent Events: `log`, `dropped`, then `end`",
        data: v.pipe(v.string(), v.description("Lines of `event: log` / `id: …` / `data: {entry}`")),
        eventStream: true,
      },
      errors: [403, 404, 409, 503],
    },
    async (c, { params, query }) => {
      await getNode(c.get("db"), params.node_id);
      const resume = c.req.header("last-event-id")?.slice(0, 1024) || undefined;
      const outcome = await nodeSession(c.env, params.node_id).tailLogs({
        source: query.source,
        source_name: query.source_name,
        levels: query.level,
        q: query.q,
        resume,
      });
      return unwrap(outcome).response;
    },
  );
}
