import * as v from "valibot";
import { INVENTORY_SECTIONS } from "../protocol/inventory-sections";
import { DateTimeOutput, objectMessage, UuidOutput } from "../schemas/common";
import { TargetingSchema } from "../targeting/schema";

const Int = v.pipe(v.number(), v.integer());

/** The sections of a refresh: deduplicated; empty means every section. */
export const RefreshSections = v.pipe(
  v.array(
    v.picklist(INVENTORY_SECTIONS, `must be one of: ${INVENTORY_SECTIONS.join(", ")}`),
    "must be an array of section names",
  ),
  v.transform((list) => [...new Set(list)]),
  v.description("Sections to collect; omitted or empty: all"),
);

/** `POST /inventory_refresh_requests` body. */
export const InventoryRefreshRequestCreate = v.pipe(
  v.strictObject(
    {
      targeting: TargetingSchema,
      sections: v.optional(RefreshSections),
      refresh_cache: v.optional(
        v.pipe(
          v.boolean("must be true or false"),
          v.description("Let package managers refresh their index before checking updates"),
        ),
      ),
    },
    objectMessage,
  ),
  v.title("InventoryRefreshRequestCreateRequest"),
);

/** A fleet refresh as the API shows it, with where each targeted node stands. */
export const InventoryRefreshRequestSchema = v.pipe(
  v.object({
    id: UuidOutput,
    targeting: v.record(v.string(), v.unknown()),
    sections: v.array(v.picklist(INVENTORY_SECTIONS)),
    refresh_cache: v.boolean(),
    status: v.pipe(
      v.picklist(["processing", "completed"]),
      v.description(
        "`completed` once every targeted node was asked and answered, was offline or could not collect inventory",
      ),
    ),
    summary: v.object({
      total: v.pipe(Int, v.description("Nodes targeted")),
      queued: v.pipe(
        Int,
        v.description(
          "Nodes not asked yet: a large fleet is asked `INVENTORY_REFRESH_NODES_PER_TICK` nodes at a time, the first batch at once and one more each minute",
        ),
      ),
      requested: v.pipe(Int, v.description("Connected nodes asked that have not answered yet")),
      answered: v.pipe(Int, v.description("Nodes that reported the asked sections")),
      offline: v.pipe(
        Int,
        v.description("Nodes not connected when asked (they report at their next connect)"),
      ),
      unsupported: v.pipe(Int, v.description("Nodes whose agent is too old to collect inventory")),
    }),
    inserted_at: DateTimeOutput,
    updated_at: DateTimeOutput,
  }),
  v.title("InventoryRefreshRequestResponse"),
);
export type InventoryRefreshRequestResponse = v.InferOutput<typeof InventoryRefreshRequestSchema>;
