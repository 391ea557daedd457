import type { Hono } from "hono";
import * as v from "valibot";
import { nodeClusterName } from "../../src/access/cluster-scope";
import { auditStatement } from "../../src/audit/record";
import { ApiError } from "../../src/errors";
import { ListQueryError } from "../../src/list-query/engine";
import { applyMemoryQuery, parseMemoryQuery } from "../../src/list-query/memory";
import { processListSpec } from "../../src/processes/list";
import { ProcessSchema, SignalBody, SignalResultSchema } from "../../src/processes/schema";
import { UuidParam } from "../../src/schemas/common";
import { ownAuditEntry } from "../audit/request-audit";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { callNode } from "../services/node-reach";

const TAG = "Nodes.Processes";
const nodeParam = { node_id: { schema: UuidParam, description: "Node UUID" } } as const;
const scope = { param: { name: "node_id", clusterName: nodeClusterName } } as const;
const PidParam = v.pipe(
  v.string(),
  v.regex(/^[1-9]\d{0,9}$/, "must be a positive integer"),
  v.transform(Number),
  v.maxValue(2 ** 31 - 1),
);
const text = (description: string) => ({ schema: v.optional(v.string()), description });

/** Registers a node's live processes: list (filtered, sorted and paged in memory), one, and signal. */
export function registerProcessRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/processes",
      permission: "processes:read",
      clusterScope: scope,
      tag: TAG,
      summary: "List a node's processes",
      description:
        "Read live from the node's agent (`/proc`), then filtered, sorted and paged like any list. `name`, `user` and `state` match exactly or with `*` wildcards, case-insensitively. 503 when the agent is not connected (`details.node_status`) or does not answer in time (`details.reason: agent_timeout`).",
      params: nodeParam,
      query: {
        name: text("Process name; `*` wildcards"),
        user: text("Owner; `*` wildcards"),
        state: text("State letter (R, S, D, Z, T, …)"),
        order_by: text("cpu_percent, memory_bytes, pid or start_time (comma-separated)"),
        order_directions: text("asc or desc for each order_by field"),
        page: text("Page number (from 1)"),
        page_size: text("Items per page (1–100, default 20)"),
      },
      success: { status: 200, description: "Paginated processes", data: ProcessSchema, paginated: true },
      errors: [404, 409, 503],
    },
    async (c, { params }) => {
      let q: ReturnType<typeof parseMemoryQuery>;
      try {
        q = parseMemoryQuery(new URL(c.req.url).searchParams, processListSpec);
      } catch (err) {
        if (err instanceof ListQueryError)
          throw new ApiError("bad_request", "Invalid request parameters", err.details);
        throw err;
      }
      const { processes } = await callNode(c.env, c.get("db"), params.node_id, "processes.list", {});
      return applyMemoryQuery(processes, processListSpec, q);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/nodes/{node_id}/processes/{pid}",
      permission: "processes:read",
      clusterScope: scope,
      tag: TAG,
      summary: "Get one process of a node",
      params: { ...nodeParam, pid: { schema: PidParam, description: "Process ID" } },
      success: { status: 200, description: "The process", data: ProcessSchema },
      errors: [404, 409, 503],
    },
    async (c, { params }) => ({
      data: await callNode(c.env, c.get("db"), params.node_id, "processes.get", { pid: params.pid }),
    }),
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/nodes/{node_id}/processes/{pid}/signal",
      permission: "processes:signal",
      clusterScope: scope,
      audit: {
        event: "process.signal",
        resourceType: "node",
        outsideBatch: "the signal is sent by the agent",
      },
      tag: TAG,
      summary: "Send a signal to a process of a node",
      description:
        "Allowed signals only; never pid 1, kernel threads or the agent itself (403). With `start_time`, a process that started at another time is a reused pid (409). No such process → 404. The host owner can switch signals off on the node (`OUTPOST_SIGNALS=off` → 403). Audited as `process.signal`.",
      params: { ...nodeParam, pid: { schema: PidParam, description: "Process ID" } },
      body: SignalBody,
      success: { status: 200, description: "The signal was delivered", data: SignalResultSchema },
      errors: [403, 404, 409, 422, 503],
    },
    async (c, { params, body }) => {
      const db = c.get("db");
      const data = await callNode(c.env, db, params.node_id, "processes.signal", {
        pid: params.pid,
        signal: body.signal,
        start_time: body.start_time,
      });
      // Its own row, so the audit log says which signal went to which process (refusals: defineRoute's).
      const entry = ownAuditEntry(c, "process.signal", { type: "node", id: params.node_id, status: 200 });
      await auditStatement(db, { ...entry, details: { pid: data.pid, signal: data.signal } });
      return { data };
    },
  );
}
