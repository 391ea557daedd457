import type { Hono } from "hono";
import { executionClusterName, SCOPE_COLUMNS } from "../../src/access/cluster-scope";
import { executionListSpec } from "../../src/command-executions/list";
import { presentExecution, presentExecutionPage } from "../../src/command-executions/present";
import { CancelExecutionData, CommandExecutionResponseSchema } from "../../src/command-executions/schema";
import { deleteExecution, getExecution, listExecutions } from "../../src/command-executions/store";
import { UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";
import { cancelExecution } from "../services/cancel-execution";

const TAG = "Commands.CommandExecution";

const idParam = { id: { schema: UuidParam, description: "Command Execution ID" } };

/** Registers `/api/v1/command_executions` (the Edge Admin contract's Commands.CommandExecution). */
export function registerCommandExecutionRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/command_executions",
      permission: "commands:read",
      clusterScope: { list: SCOPE_COLUMNS.executions },
      tag: TAG,
      summary: "List command executions",
      list: executionListSpec,
      success: {
        status: 200,
        description: "Paginated list of command executions",
        data: CommandExecutionResponseSchema,
        paginated: true,
      },
    },
    listRoute({ page: listExecutions, present: presentExecutionPage }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/command_executions/{id}",
      permission: "commands:read",
      clusterScope: { param: { name: "id", clusterName: executionClusterName } },
      tag: TAG,
      summary: "Get a specific command execution",
      params: idParam,
      success: { status: 200, description: "The command execution", data: CommandExecutionResponseSchema },
      errors: [404],
    },
    async (c, { params }) => ({ data: presentExecution(await getExecution(c.get("db"), params.id)) }),
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/command_executions/{id}",
      permission: "commands:execute",
      clusterScope: { param: { name: "id", clusterName: executionClusterName } },
      tag: TAG,
      summary: "Delete a command execution",
      description:
        "Only completed, cancelled or expired executions can be deleted; pending or sent ones answer 409.",
      params: idParam,
      success: { status: 204, description: "Deleted", data: null },
      errors: [404, 409, 503],
    },
    async (c, { params }) => {
      await deleteExecution(c.get("db"), params.id);
    },
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/command_executions/{id}/cancel",
      permission: "commands:execute",
      clusterScope: { param: { name: "id", clusterName: executionClusterName } },
      tag: TAG,
      summary: "Cancel a command execution",
      description:
        "pending: marked cancelled at once (the command never ran). sent: a cancellation request goes to the agent (best effort, async); the agent is the source of truth — if it already ran the command it reports the real result (completed), if it honoured the cancel (exit code 143) the execution becomes cancelled. Poll the execution to see the outcome. completed/cancelled/expired: 409.",
      params: idParam,
      success: { status: 200, description: "Cancellation initiated", data: CancelExecutionData },
      errors: [404, 409, 503],
    },
    async (c, { params }) => ({ data: { result: await cancelExecution(c.env, c.get("db"), params.id) } }),
  );
}
