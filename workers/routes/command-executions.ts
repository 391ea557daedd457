import { count, type SQL, sql } from "drizzle-orm";
import type { Hono } from "hono";
import * as v from "valibot";
import { commandExecutions as ce, clusters, EXECUTION_STATUSES, nodes } from "../../src/db/schema";
import type { ListSpec } from "../../src/list-query/engine";
import {
  booleanFilter,
  enumFilter,
  type FilterDef,
  integerFilter,
  presenceFilter,
  rangeFilters,
  textFilter,
} from "../../src/list-query/filters";
import { DateTimeOutput, UuidOutput, UuidParam } from "../../src/schemas/common";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { respond, respondList, respondNoContent } from "../respond";
import {
  cancelExecution,
  deleteExecution,
  getExecution,
  presentExecution,
} from "../services/command-executions";
import { listPage } from "../services/list-page";

const TAG = "Commands.CommandExecution";

const CommandExecutionResponseSchema = v.pipe(
  v.object({
    cancelled_at: v.nullable(DateTimeOutput),
    cluster_name: v.pipe(
      v.nullable(v.string()),
      v.description(
        "The cluster explicitly targeted when this execution was created: set only for clusters targeting of a single cluster",
      ),
    ),
    command_id: UuidOutput,
    command_text: v.nullable(v.string()),
    completed_at: v.nullable(DateTimeOutput),
    exit_code: v.nullable(v.number()),
    expired_at: v.nullable(DateTimeOutput),
    id: UuidOutput,
    inserted_at: DateTimeOutput,
    node_id: v.pipe(v.nullable(UuidOutput), v.description("ID of the target node (null once it is deleted)")),
    output: v.nullable(v.string()),
    sent_at: v.nullable(DateTimeOutput),
    status: v.picklist(EXECUTION_STATUSES),
    target_all: v.boolean(),
    timeout: v.nullable(v.number()),
    updated_at: DateTimeOutput,
  }),
  v.title("CommandExecutionResponse"),
);

const CancelExecutionData = v.pipe(
  v.object({ result: v.pipe(v.string(), v.description("Cancellation request status message")) }),
  v.title("CancelExecutionData"),
);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidFilter(expr: SQL, description: string): FilterDef {
  return {
    description,
    type: "string",
    parse: (raw) => (UUID.test(raw) ? { value: raw.toLowerCase() } : { error: "must be a UUID" }),
    toSql: (id: string) => sql`${expr} = ${id}`,
  };
}

// The node's current cluster, matched through the nodes index rather than row by row.
const nodeCluster = textFilter(
  sql`${clusters.name}`,
  "Filter by cluster name via node's cluster (exact match or wildcard: prod, staging*, etc.)",
);
const clusterNameFilter: FilterDef = {
  ...nodeCluster,
  toSql: async (value: string) =>
    sql`${ce.nodeId} IN (SELECT ${nodes.id} FROM ${nodes} INNER JOIN ${clusters} ON ${clusters.id} = ${nodes.clusterId} WHERE ${await nodeCluster.toSql(value)})`,
};

const listSpec: ListSpec = {
  filters: {
    cluster_name: clusterNameFilter,
    command_id: uuidFilter(sql`${ce.commandId}`, "Filter by command ID"),
    node_id: uuidFilter(sql`${ce.nodeId}`, "Filter by node ID"),
    status: enumFilter(sql`${ce.status}`, EXECUTION_STATUSES, "Filter by execution status"),
    exit_code: integerFilter(sql`${ce.exitCode}`, "Filter by exact exit code"),
    ...rangeFilters(
      "exit_code",
      sql`${ce.exitCode}`,
      "integer",
      "exit code (e.g. exit_code__gte=1 for all failures)",
    ),
    output: textFilter(
      sql`${ce.output}`,
      "Text search in output (exact match or wildcard: error, *failed*, etc.; case-sensitive)",
    ),
    has_output: booleanFilter(
      "Filter by whether output is present: true returns executions with output, false returns executions with no output",
      (has) =>
        has
          ? sql`(${ce.output} IS NOT NULL AND ${ce.output} <> '')`
          : sql`(${ce.output} IS NULL OR ${ce.output} = '')`,
    ),
    has_cluster: presenceFilter(
      sql`${ce.clusterName}`,
      "Filter by cluster presence (true = executions created by single-cluster targeting, false = the others)",
    ),
    target_all: booleanFilter("Filter by target_all flag", (on) => sql`${ce.targetAll} = ${on ? 1 : 0}`),
    ...rangeFilters("inserted_at", sql`${ce.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${ce.updatedAt}`, "datetime"),
    ...rangeFilters("sent_at", sql`${ce.sentAt}`, "datetime"),
    ...rangeFilters("completed_at", sql`${ce.completedAt}`, "datetime"),
    ...rangeFilters("cancelled_at", sql`${ce.cancelledAt}`, "datetime"),
  },
  sortable: {
    inserted_at: sql`${ce.insertedAt}`,
    updated_at: sql`${ce.updatedAt}`,
    sent_at: sql`${ce.sentAt}`,
    completed_at: sql`${ce.completedAt}`,
    cancelled_at: sql`${ce.cancelledAt}`,
    status: sql`${ce.status}`,
    exit_code: sql`${ce.exitCode}`,
    node_id: sql`${ce.nodeId}`,
    command_id: sql`${ce.commandId}`,
    cluster_name: sql`${ce.clusterName}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${ce.id}`,
};

const idParam = { id: { schema: UuidParam, description: "Command Execution ID" } };

/** Registers `/api/v1/command_executions` (seed: Commands.CommandExecution). */
export function registerCommandExecutionRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/command_executions",
      tag: TAG,
      summary: "List command executions",
      list: listSpec,
      success: {
        status: 200,
        description: "Paginated list of command executions",
        data: CommandExecutionResponseSchema,
        paginated: true,
      },
    },
    async (c, { list }) => {
      const db = c.get("db");
      const q = list!;
      const { rows, pagination } = await listPage(
        db,
        q,
        db.select().from(ce),
        db.select({ total: count() }).from(ce),
      );
      return respondList(c, rows.map(presentExecution), pagination);
    },
  );

  defineRoute(
    app,
    {
      method: "get",
      path: "/api/v1/command_executions/{id}",
      tag: TAG,
      summary: "Get a specific command execution",
      params: idParam,
      success: { status: 200, description: "The command execution", data: CommandExecutionResponseSchema },
      errors: [404],
    },
    async (c, { params }) => respond(c, presentExecution(await getExecution(c.get("db"), params.id))),
  );

  defineRoute(
    app,
    {
      method: "delete",
      path: "/api/v1/command_executions/{id}",
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
      return respondNoContent(c);
    },
  );

  defineRoute(
    app,
    {
      method: "patch",
      path: "/api/v1/command_executions/{id}/cancel",
      tag: TAG,
      summary: "Cancel a command execution",
      description:
        "pending: marked cancelled at once (the command never ran). sent: a cancellation request goes to the agent (best effort, async); the agent is the source of truth — if it already ran the command it reports the real result (completed), if it honoured the cancel (exit code 143) the execution becomes cancelled. Poll the execution to see the outcome. completed/cancelled/expired: 409.",
      params: idParam,
      success: { status: 200, description: "Cancellation initiated", data: CancelExecutionData },
      errors: [404, 409, 503],
    },
    async (c, { params }) => respond(c, { result: await cancelExecution(c.env, c.get("db"), params.id) }),
  );
}
