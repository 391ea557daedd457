import type { Hono } from "hono";
import * as v from "valibot";
import { executionClusterName } from "../../src/access/cluster-scope";
import { getExecution } from "../../src/command-executions/store";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { executionStream } from "../services/execution-stream";

/** Registers `GET /api/v1/command_executions/{id}/stream` (beyond the contract): live output as Server-Sent Events. */
export function registerExecutionStreamRoute(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/command_executions/{id}/stream",
      permission: "commands:read",
      clusterScope: { param: { name: "id", clusterName: executionClusterName } },
      tag: "Commands.CommandExecution",
      summary: "Stream an execution's output",
      description:
        "Server-Sent Events: `output` events (`{chunk}`) while the command runs, then one `end` event (`{status, exit_code}`). A finished execution yields its stored output and `end` at once. Live `output` events carry an `id:` (the chunk's sequence number); reconnecting with `Last-Event-ID` resumes after that chunk. Each node serves at most `STREAM_MAX_SUBSCRIBERS_PER_NODE` open streams (503 past it), and a stream closes after `STREAM_MAX_LIFETIME_SECONDS` without `end` (open it again to go on).",
      params: { id: { schema: UuidParam, description: "Command execution ID" } },
      success: {
        status: 200,
        description: "Server-Sent Events: `output` events, then one `end` event",
        data: v.pipe(
          v.string(),
          v.description(
            'Lines of `event: output` / `data: {"chunk": "…"}`, ending with `event: end` / `data: {"status": "completed", "exit_code": 0}`',
          ),
        ),
        eventStream: true,
      },
      errors: [404, 503],
    },
    async (c, { params }) =>
      executionStream(c.env, await getExecution(c.get("db"), params.id), c.req.header("last-event-id")),
  );
}
