import { eq } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import { streamRequest } from "../../durable-objects/node-session/requests";
import { commandExecutions } from "../../src/db/schema";
import { UuidParam } from "../../src/schemas/common";
import { ApiError } from "../errors";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { nodeSession } from "../services/node-sessions";

const TERMINAL = ["completed", "cancelled", "expired"];

function finishedStream(
  output: string | null,
  final: { status: string; exit_code: number | null },
): Response {
  const events = [
    ...(output ? [`event: output\ndata: ${JSON.stringify({ chunk: output })}\n\n`] : []),
    `event: end\ndata: ${JSON.stringify(final)}\n\n`,
  ];
  return new Response(events.join(""), {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
  });
}

/** Registers `GET /api/v1/command_executions/{id}/stream` (beyond the seed): live output as Server-Sent Events. */
export function registerExecutionStreamRoute(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/command_executions/{id}/stream",
      tag: "Commands.CommandExecution",
      summary: "Stream an execution's output",
      description:
        "Server-Sent Events: `output` events (`{chunk}`) while the command runs, then one `end` event (`{status, exit_code}`). A finished execution yields its stored output and `end` at once.",
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
      errors: [404],
    },
    async (c, { params }) => {
      const [row] = await c
        .get("db")
        .select({
          status: commandExecutions.status,
          exitCode: commandExecutions.exitCode,
          output: commandExecutions.output,
          nodeId: commandExecutions.nodeId,
        })
        .from(commandExecutions)
        .where(eq(commandExecutions.id, params.id));
      if (!row) throw new ApiError("not_found", "Command execution not found");
      if (TERMINAL.includes(row.status) || !row.nodeId) {
        return finishedStream(row.output, { status: row.status, exit_code: row.exitCode });
      }
      return nodeSession(c.env, row.nodeId).fetch(streamRequest(params.id));
    },
  );
}
