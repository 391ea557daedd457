import * as v from "valibot";
import { DateTimeOutput } from "../schemas/common";

const Int = v.pipe(v.number(), v.integer());
const Counts = v.record(v.string(), Int);

/** `GET /nodes/summary`: the fleet at a glance (seed 000 fleet status), over the node list's filters. */
export const FleetSummarySchema = v.pipe(
  v.object({
    total: Int,
    by_status: v.object({ healthy: Int, unhealthy: Int, unreachable: Int }),
    online: v.pipe(Int, v.description("healthy + unhealthy: connected nodes")),
    offline: v.pipe(Int, v.description("unreachable nodes")),
    with_errors: v.pipe(Int, v.description("unhealthy nodes: connected, with a failing self-check")),
    pending_approval: v.pipe(
      Int,
      v.description(
        "Node registrations awaiting an administrator's approval (`GET /api/v1/node_registrations?status=pending`), narrowed by `cluster_name` only (the other node filters do not apply to registrations)",
      ),
    ),
    by_version: v.pipe(Counts, v.description("Agent version → nodes (`unknown` before the first hello)")),
    by_platform: v.pipe(Counts, v.description("Platform → nodes (`unknown` before the first hello)")),
    by_cluster: v.pipe(Counts, v.description("Cluster name → nodes")),
    computed_at: DateTimeOutput,
  }),
  v.title("FleetSummary"),
);
export type FleetSummary = v.InferOutput<typeof FleetSummarySchema>;

/** `GET /updates/summary`: pending OS updates across the filtered nodes. */
export const UpdatesSummarySchema = v.pipe(
  v.object({
    nodes: v.pipe(Int, v.description("Nodes matching the filters")),
    nodes_reporting: v.pipe(Int, v.description("Of those, nodes that have reported an updates check")),
    nodes_with_updates: Int,
    nodes_with_security_updates: Int,
    pending_updates: v.pipe(Int, v.description("Sum of pending updates over the nodes")),
    security_updates: v.pipe(Int, v.description("Sum of pending security updates over the nodes")),
    reboot_required: v.pipe(Int, v.description("Nodes that report a reboot is required")),
    computed_at: DateTimeOutput,
  }),
  v.title("UpdatesSummary"),
);
export type UpdatesSummary = v.InferOutput<typeof UpdatesSummarySchema>;
