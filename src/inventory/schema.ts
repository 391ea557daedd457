import * as v from "valibot";
import { INVENTORY_SECTIONS, UpdatesData } from "../protocol/inventory-sections";
import { DateTimeOutput, UuidOutput } from "../schemas/common";

const Int = v.pipe(v.number(), v.integer());

/** One stored inventory section of a node. */
export const InventorySectionSchema = v.pipe(
  v.object({
    section: v.picklist(INVENTORY_SECTIONS),
    status: v.pipe(
      v.picklist(["ok", "unavailable"]),
      v.description("`unavailable`: the agent could not (or may not) collect it; `reason` says why"),
    ),
    reason: v.nullable(v.string()),
    content_hash: v.pipe(
      v.string(),
      v.description("SHA-256 of the section's content as the agent computed it"),
    ),
    collected_at: v.pipe(DateTimeOutput, v.description("When the agent collected the content now stored")),
    updated_at: v.pipe(DateTimeOutput, v.description("When the stored content last changed")),
    data: v.pipe(
      v.record(v.string(), v.unknown()),
      v.description(
        "The section's data (empty when unavailable). For `software` a summary `{package_manager, total_packages}`; the packages are at `/api/v1/nodes/{id}/software`.",
      ),
    ),
  }),
  v.title("InventorySection"),
);
export type InventorySectionResponse = v.InferOutput<typeof InventorySectionSchema>;

/** `GET /nodes/{id}/inventory`: every section the node has reported. */
export const NodeInventorySchema = v.pipe(
  v.object({
    node_id: UuidOutput,
    sections: v.array(InventorySectionSchema),
    not_reported: v.pipe(
      v.array(v.picklist(INVENTORY_SECTIONS)),
      v.description("Sections the node has not reported yet (older agent, or not connected since)"),
    ),
  }),
  v.title("NodeInventory"),
);

/** One installed package of a node. */
export const NodePackageSchema = v.pipe(
  v.object({
    name: v.string(),
    version: v.string(),
    architecture: v.string(),
    status: v.string(),
    source: v.pipe(v.string(), v.description("Package database: dpkg, rpm, apk or pacman")),
    description: v.nullable(v.string()),
    installed_at: v.nullable(DateTimeOutput),
  }),
  v.title("NodePackage"),
);

/** One row of the fleet software search: a package name and version and how many nodes have it. */
export const FleetPackageSchema = v.pipe(
  v.object({
    name: v.string(),
    version: v.string(),
    architectures: v.pipe(v.array(v.string()), v.description("Architectures this version is installed for")),
    node_count: v.pipe(Int, v.description("Nodes with this package version installed")),
  }),
  v.title("FleetPackage"),
);

/** `PATCH /nodes/{id}/inventory/refresh` body. */
export const InventoryRefreshRequestBody = v.pipe(
  v.strictObject({
    sections: v.optional(
      v.pipe(
        v.array(
          v.picklist(INVENTORY_SECTIONS, `must be one of: ${INVENTORY_SECTIONS.join(", ")}`),
          "must be an array of section names",
        ),
        v.transform((list) => [...new Set(list)]),
        v.description("Sections to collect now; omitted or empty: all"),
      ),
    ),
    refresh_cache: v.optional(
      v.pipe(
        v.boolean("must be true or false"),
        v.description("Let the package manager refresh its index before checking updates (apt-get update…)"),
      ),
    ),
  }),
  v.title("InventoryRefreshRequest"),
);

/** The answer to a node's refresh: asked, not yet answered. */
export const InventoryRefreshAcceptedSchema = v.pipe(
  v.object({
    node_id: UuidOutput,
    sections: v.array(v.picklist(INVENTORY_SECTIONS)),
    refresh_cache: v.boolean(),
    requested_at: DateTimeOutput,
  }),
  v.title("InventoryRefreshAccepted"),
);

/** `GET /nodes/{id}/updates`: the `updates` section with its collection time. */
export const NodeUpdatesSchema = v.pipe(
  v.object({
    node_id: UuidOutput,
    status: v.picklist(["ok", "unavailable"]),
    reason: v.nullable(v.string()),
    collected_at: DateTimeOutput,
    updates: v.nullable(UpdatesData),
  }),
  v.title("NodeUpdates"),
);
