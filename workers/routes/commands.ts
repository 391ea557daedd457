import { count, sql } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import { describeError } from "../../src/db/errors";
import { commands } from "../../src/db/schema";
import type { ListSpec } from "../../src/list-query/engine";
import { presenceFilter, rangeFilters, textFilter } from "../../src/list-query/filters";
import { DateTimeOutput, FutureDateTimeInput, UuidOutput, UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { respond, respondList, respondNoContent } from "../respond";
import {
  createCommand,
  deleteCommand,
  getCommand,
  presentCommand,
  summarizeCommand,
} from "../services/commands";
import { dispatchExecutions, isDirectFanout } from "../services/dispatch";
import { listPage } from "../services/list-page";
import { objectMessage, TargetingSchema } from "../services/targeting";

const TAG = "Commands.Command";

/** Longest timeout an agent can arm (Node's setTimeout fires at once beyond 2^31-1 ms). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

const CommandCreateRequest = v.pipe(
  v.strictObject(
    {
      command_text: v.pipe(
        v.string("must be a string"),
        v.minLength(1, "can't be blank"),
        v.description("Multi-line shell script/commands to execute"),
      ),
      targeting: TargetingSchema,
      timeout: v.optional(
        v.pipe(
          v.nullable(
            v.pipe(
              v.number("must be an integer"),
              v.integer("must be an integer"),
              v.minValue(1, "must be greater than 0"),
              v.maxValue(MAX_TIMEOUT_MS, `must be at most ${MAX_TIMEOUT_MS} (about 24.8 days)`),
            ),
          ),
          v.description("Command timeout in milliseconds (null or omitted means no timeout, must be > 0)"),
        ),
      ),
      expired_at: v.optional(
        v.pipe(
          v.nullable(FutureDateTimeInput),
          v.description(
            "Deadline after which pending/sent executions are automatically expired. Must be in the future. Immutable after creation.",
          ),
        ),
      ),
    },
    objectMessage,
  ),
  v.title("CommandCreateRequest"),
);

const TargetingOutput = v.object({
  type: v.picklist(["all", "nodes", "clusters"]),
  node_ids: v.optional(v.array(UuidOutput)),
  cluster_names: v.optional(v.array(v.string())),
  node_filters: v.optional(v.record(v.string(), v.unknown())),
  cluster_filters: v.optional(v.record(v.string(), v.unknown())),
});

const CommandResponseSchema = v.pipe(
  v.object({
    command_text: v.string(),
    expired_at: v.nullable(DateTimeOutput),
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    targeting: v.pipe(
      TargetingOutput,
      v.description("Targeting configuration used when creating this command (informational only)"),
    ),
    timeout: v.nullable(v.number()),
    updated_at: DateTimeOutput,
  }),
  v.title("CommandResponse"),
);

const CommandSummarySchema = v.pipe(
  v.object({
    command_id: UuidOutput,
    total: v.number(),
    counts: v.pipe(
      v.object({
        pending: v.number(),
        sent: v.number(),
        completed: v.number(),
        cancelled: v.number(),
        expired: v.number(),
      }),
      v.description("Executions per status; every status is present"),
    ),
    exit_codes: v.pipe(
      v.record(v.string(), v.number()),
      v.description('Executions per reported exit code, e.g. {"0": 12, "1": 3}'),
    ),
    first_completed_at: v.nullable(DateTimeOutput),
    last_completed_at: v.nullable(DateTimeOutput),
  }),
  v.title("CommandSummary"),
);

const listSpec: ListSpec = {
  filters: {
    command_text: textFilter(
      sql`${commands.commandText}`,
      "Filter by command text (exact match or wildcard: ls, docker*, etc.)",
    ),
    has_expired_at: presenceFilter(
      sql`${commands.expiredAt}`,
      "Filter by whether an expiration is set: true returns commands with expired_at, false returns commands without",
    ),
    has_timeout: presenceFilter(
      sql`${commands.timeout}`,
      "Filter by whether a timeout is set: true returns commands with a timeout, false returns commands without",
    ),
    ...rangeFilters("timeout", sql`${commands.timeout}`, "integer", "timeout (milliseconds)"),
    ...rangeFilters("expired_at", sql`${commands.expiredAt}`, "datetime"),
    ...rangeFilters("inserted_at", sql`${commands.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${commands.updatedAt}`, "datetime"),
  },
  sortable: {
    inserted_at: sql`${commands.insertedAt}`,
    updated_at: sql`${commands.updatedAt}`,
    expired_at: sql`${commands.expiredAt}`,
    timeout: sql`${commands.timeout}`,
    command_text: sql`${commands.commandText}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${commands.id}`,
};

const idParam = { id: { schema: UuidParam, description: "Command ID" } };

/** Registers `/api/v1/commands` (seed: Commands.Command) and the per-command summary. */
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
    async (c, { body }) => {
      const { command, nodeIds, claimed } = await createCommand(c.get("db"), body, {
        claimUpTo: (count) => isDirectFanout(c.env, count),
      });
      try {
        await dispatchExecutions(c.env, c.executionCtx, nodeIds, claimed);
      } catch (err) {
        // The rows are written; the cron's re-dispatch delivers them if this fan-out was lost.
        console.warn(
          JSON.stringify({
            level: "warn",
            msg: "dispatch failed",
            command_id: command.id,
            error: describeError(err),
          }),
        );
      }
      return respond(c, presentCommand(command), 201);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/commands",
      tag: TAG,
      summary: "List all commands",
      list: listSpec,
      success: {
        status: 200,
        description: "Paginated list of commands",
        data: CommandResponseSchema,
        paginated: true,
      },
    },
    async (c, { list }) => {
      const db = c.get("db");
      const q = list!;
      const { rows, pagination } = await listPage(
        db,
        q,
        db.select().from(commands),
        db.select({ total: count() }).from(commands),
      );
      return respondList(c, rows.map(presentCommand), pagination);
    },
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
    async (c, { params }) => respond(c, presentCommand(await getCommand(c.get("db"), params.id))),
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
      const [, summary] = await Promise.all([getCommand(db, params.id), summarizeCommand(db, params.id)]);
      return respond(c, summary);
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
      return respondNoContent(c);
    },
  );
}
