import type { Hono } from "hono";
import { commandListSpec } from "../../src/commands/list";
import { presentCommand, presentSummary } from "../../src/commands/present";
import { CommandCreateRequest, CommandResponseSchema, CommandSummarySchema } from "../../src/commands/schema";
import { deleteCommand, getCommand, listCommands, tallyExecutions } from "../../src/commands/store";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";
import { launchCommand } from "../services/launch-command";

const TAG = "Commands.Command";

const idParam = { id: { schema: UuidParam, description: "Command ID" } };

/** Registers `/api/v1/commands` (the Edge Admin contract's Commands.Command) and the per-command summary. */
export function registerCommandRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/commands",
      tag: TAG,
      summary: "Create a new command",
      description:
        "Create a command for execution on nodes. Targeting types: 'all' (every node), 'nodes' (by `node_ids`), 'clusters' (by `cluster_names`); `node_filters` and `cluster_filters` narrow any of them (AND). Unknown node ids or cluster names, and a targeting that matches no node, are 422. One `pending` execution is created per matched node and delivered to connected agents at once; offline nodes get theirs when they connect.",
      body: CommandCreateRequest,
      success: { status: 201, description: "Command created", data: CommandResponseSchema },
      errors: [422, 503],
    },
    async (c, { body }) => ({
      data: presentCommand(await launchCommand(c.env, c.executionCtx, c.get("db"), body)),
    }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/commands",
      tag: TAG,
      summary: "List all commands",
      list: commandListSpec,
      success: {
        status: 200,
        description: "Paginated list of commands",
        data: CommandResponseSchema,
        paginated: true,
      },
    },
    listRoute({ page: listCommands, present: (rows) => rows.map(presentCommand) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/commands/{id}",
      tag: TAG,
      summary: "Get a specific command",
      params: idParam,
      success: { status: 200, description: "The command", data: CommandResponseSchema },
      errors: [404],
    },
    async (c, { params }) => ({ data: presentCommand(await getCommand(c.get("db"), params.id)) }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/commands/{id}/summary",
      tag: TAG,
      summary: "Summarise a command's executions",
      description:
        "Counts of the command's executions by status (every status present), their total, a histogram of reported exit codes, and the first and last completion times.",
      params: idParam,
      success: { status: 200, description: "The command's execution summary", data: CommandSummarySchema },
      errors: [404],
    },
    async (c, { params }) => {
      const db = c.get("db");
      const [, tally] = await Promise.all([getCommand(db, params.id), tallyExecutions(db, params.id)]);
      return { data: presentSummary(params.id, tally) };
    },
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/commands/{id}",
      tag: TAG,
      summary: "Delete a command",
      description:
        "Deletes the command and all its executions. Refused with 409 while any execution is pending or sent.",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 409, 503],
    },
    async (c, { params }) => {
      await deleteCommand(c.get("db"), params.id);
    },
  );
}
