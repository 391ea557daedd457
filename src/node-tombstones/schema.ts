import * as v from "valibot";
import { DateTimeOutput, UuidOutput } from "../schemas/common";

/** A node id refused at enrolment until the tombstone is deleted. */
export const NodeTombstoneResponseSchema = v.pipe(
  v.object({
    node_id: UuidOutput,
    cluster_name: v.pipe(v.nullable(v.string()), v.description("The deleted node's cluster")),
    hostname: v.pipe(v.nullable(v.string()), v.description("The deleted node's hostname")),
    inserted_at: DateTimeOutput,
  }),
  v.title("NodeTombstoneResponse"),
);
export type NodeTombstoneResponse = v.InferOutput<typeof NodeTombstoneResponseSchema>;
