import type { Hono } from "hono";
import * as v from "valibot";
import { commandListSpec } from "../../src/commands/list";
import { presentCommand, presentCommandPage, presentSummary } from "../../src/commands/present";
import { changeRollout } from "../../src/commands/rollout";
import {
  CommandCreatedMetaSchema,
  CommandCreatedSchema,
  CommandCreateRequest,
  CommandResponseSchema,
  CommandSummarySchema,
} from "../../src/commands/schema";
import { deleteCommand, getCommand, listCommands, tallyExecutions } from "../../src/commands/store";
import { loadConfig } from "../../src/config";
import { UuidParam } from "../../src/schemas/common";
import { principalOf } from "../middleware/authorize";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { listRoute } from "../openapi/list-route";
import { advanceAndDeliver } from "../services/advance-rollout";
import { awaitCommand } from "../services/await-command";
import { readLiveOutput } from "../services/command-live-output";
import { commandStream } from "../services/command-stream";
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
      permission: "commands:execute",
      tag: TAG,
      summary: "Create a new command",
      description:
        "Create a command for execution on nodes. Targeting types: 'all' (every node), 'nodes' (by `node_ids`), 'clusters' (by `cluster_names`), 'hostnames' (beyond the contract); `node_filters` and `cluster_filters` narrow any of them (AND). Unknown node ids or cluster names, and a targeting that matches no node, are 422; hostnames matching several nodes or none are reported in `meta.warnings`. One `pending` execution is created per matched node and delivered to connected agents at once; offline nodes get theirs when they connect.\n\nWith `wait_seconds` (1–60) the answer waits until every execution finished or the time is up, and carries `executions` and `meta.complete`. With `max_concurrency` the command is a rollout: at most that many executions run at once, the rest wait `pending` and start as others finish; with `max_errors` the rollout stops (the waiting executions are cancelled) once more executions than that failed. See docs/rollouts.md.",
      body: CommandCreateRequest,
      success: {
        status: 201,
        description: "Command created",
        data: CommandCreatedSchema,
        meta: CommandCreatedMetaSchema,
      },
      errors: [403, 422, 503],
    },
    async (c, { body }) => {
      const db = c.get("db");
      const { command, warnings, settled } = await launchCommand(
        c.env,
        c.executionCtx,
        db,
        body,
        principalOf(c).clusterScope,
      );
      const meta: Record<string, unknown> = warnings.length > 0 ? { warnings } : {};
      if (body.wait_seconds === undefined) return { data: presentCommand(command), meta };
      const waited = await awaitCommand(db, command.id, body.wait_seconds, settled);
      return {
        data: { ...presentCommand(command), executions: waited.executions },
        meta: { ...meta, complete: waited.complete },
      };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/commands",
      permission: "commands:read",
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
    listRoute({ page: listCommands, present: presentCommandPage }),
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/commands/{id}",
      permission: "commands:read",
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
      permission: "commands:read",
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
      const [command, tally] = await Promise.all([getCommand(db, params.id), tallyExecutions(db, params.id)]);
      return { data: presentSummary(params.id, tally, presentCommand(command).rollout) };
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/commands/{id}/stream",
      permission: "commands:read",
      tag: TAG,
      summary: "Stream every execution of a command",
      description:
        "Beyond the contract. Server-Sent Events: one `execution` event each time one of the command's executions changes state (`{execution_id, node_id, hostname, status, exit_code, output, started_at, duration_ms}`; `output` with the final state), `output` events with the output of running executions as their agents send it (`{execution_id, node_id, hostname, seq, chunk}`; up to 50 running executions followed at once, the others' output comes with their final state), then one `end` event once none is pending or sent. Each event has an `id:`; reconnecting with `Last-Event-ID` resumes after it without repeating state events (after an `output` event, that execution's chunks go on after it; other running executions replay the chunks their node still buffers). Closes after `STREAM_MAX_LIFETIME_SECONDS` without `end` (reconnect to go on).",
      params: idParam,
      success: {
        status: 200,
        description: "Server-Sent Events: `execution` and `output` events, then one `end` event",
        data: v.pipe(
          v.string(),
          v.description(
            'Lines of `id: <change>-<execution id>` / `event: execution` / `data: {"execution_id": "…", "status": "completed", …}`, ending with `event: end`',
          ),
        ),
        eventStream: true,
      },
      errors: [404],
    },
    async (c, { params }) => {
      const db = c.get("db");
      await getCommand(db, params.id);
      return commandStream(db, params.id, {
        lastEventId: c.req.header("last-event-id"),
        lifetimeMs: loadConfig(c.env).streamMaxLifetimeMs,
        follow: (row, after, onChunk) => readLiveOutput(c.env, row.node_id, row.id, after, onChunk),
      });
    },
  );

  const ROLLOUT_ACTIONS = {
    pause: "Pause a rollout: no further executions start; those running finish.",
    resume: "Resume a paused rollout: executions start again as slots free.",
    cancel:
      "Cancel a rollout: the executions still waiting are cancelled (reason in their output and event); those running finish.",
  } as const;
  for (const action of ["pause", "resume", "cancel"] as const) {
    defineRoute(
      app,
      {
        method: "patch",
        path: `/api/v1/commands/{id}/rollout/${action}`,
        permission: "commands:execute",
        tag: TAG,
        summary: `${action[0]?.toUpperCase()}${action.slice(1)} a rollout`,
        description: `Beyond the contract. ${ROLLOUT_ACTIONS[action]} 409 when the command is no rollout or its rollout is not in a state this applies to.`,
        params: idParam,
        success: {
          status: 200,
          description: "The command with its rollout's new state",
          data: CommandResponseSchema,
        },
        errors: [404, 409],
      },
      async (c, { params }) => {
        const db = c.get("db");
        await changeRollout(db, params.id, action);
        if (action === "resume") await advanceAndDeliver(c.env, db, params.id);
        return { data: presentCommand(await getCommand(db, params.id)) };
      },
    );
  }

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/commands/{id}",
      permission: "commands:execute",
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
