import * as v from "valibot";
import { CHUNK_DATA_BYTES, MAX_CHUNKS } from "./inventory-chunks";
import {
  INVENTORY_SECTIONS,
  type InventorySection,
  SECTION_DATA,
  sectionDataSchema,
} from "./inventory-sections";
import { sha256Hex, versionEntries } from "./primitives";

// Each schema is built by a function, and the exported constant is that function's result, marked
// pure: the server uses the constants (built once), while the agent builds only the schema a frame
// needs when it needs it, and esbuild drops the unused constants from the agent's bundle, so an idle
// agent holds no schema (issue 25, docs/agent-footprint.md).

// The inventory's frames (issue 18), part of the one catalog in ./frames.ts. The server asks with
// `inventory_request` (at every hello with the hashes it already has, and when an operator asks for
// a refresh); the agent answers with one `inventory` frame per section whose hash differs; the
// server settles each with `inventory_ack`, after which the agent stops re-sending that content.

/** The capability an agent announces in its hello when it speaks these frames. */
export const INVENTORY_CAPABILITY = "inventory.v1";

const section = () => v.picklist(INVENTORY_SECTIONS);
const requestId = () => v.pipe(v.string(), v.minLength(1), v.maxLength(128));

/**
 * agent → server: one section, its content hash, and its data or why it is unavailable. `dataSchema`
 * gives the section's data schema: the server's built-once ones, or (the agent) one built per frame.
 */
export const inventoryFrame = (
  dataSchema: (section: InventorySection) => v.GenericSchema = sectionDataSchema,
) =>
  v.pipe(
    v.object({
      ...versionEntries(),
      type: v.literal("inventory"),
      section: section(),
      status: v.picklist(["ok", "unavailable"]),
      reason: v.optional(v.pipe(v.string(), v.maxLength(512))),
      content_hash: sha256Hex(),
      /** Epoch ms when the agent collected it. */
      collected_at: v.pipe(v.number(), v.integer(), v.minValue(0)),
      /** Present when the report answers an `inventory_request` that carried one. */
      request_id: v.optional(requestId()),
      data: v.nullable(v.record(v.string(), v.unknown())),
    }),
    v.check(
      (f) => (f.status === "ok" ? f.data !== null && v.is(dataSchema(f.section), f.data) : f.data === null),
      "data must match the section's schema (or be null when unavailable)",
    ),
  );
export const InventoryFrame = /* @__PURE__ */ inventoryFrame((section) => SECTION_DATA[section]);

/**
 * agent → server: one slice of a section too large for one frame (the JSON text of its `data`,
 * cut by `splitText`). The server keeps the slices until all `count` are there, then handles the
 * whole as one `inventory` frame with status `ok`; a slice received twice counts once.
 */
export const inventoryChunkFrame = () =>
  v.pipe(
    v.object({
      ...versionEntries(),
      type: v.literal("inventory_chunk"),
      section: section(),
      content_hash: sha256Hex(),
      collected_at: v.pipe(v.number(), v.integer(), v.minValue(0)),
      request_id: v.optional(requestId()),
      index: v.pipe(v.number(), v.integer(), v.minValue(0)),
      count: v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(MAX_CHUNKS)),
      // Characters: a slice is at most CHUNK_DATA_BYTES encoded, so never more characters than that.
      data: v.pipe(v.string(), v.minLength(1), v.maxLength(CHUNK_DATA_BYTES)),
    }),
    v.check((f) => f.index < f.count, "index must be below count"),
  );
export const InventoryChunkFrame = /* @__PURE__ */ inventoryChunkFrame();

/** server → agent: collect these sections (all when absent) and report those whose hash differs from `known_hashes`. */
export const inventoryRequestFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("inventory_request"),
    request_id: v.optional(requestId()),
    sections: v.optional(v.pipe(v.array(section()), v.maxLength(INVENTORY_SECTIONS.length))),
    /** The hashes the server holds; a section with the same hash is not sent. Absent: send every section asked for. */
    known_hashes: v.optional(v.record(v.string(), sha256Hex())),
    /** Let the package manager refresh its index before checking updates (apt-get update…); never otherwise. */
    refresh_cache: v.optional(v.boolean(), false),
    /** The server takes `inventory_chunk` frames: a section over one frame is sent in slices, not reported unavailable. */
    accepts_chunks: v.optional(v.boolean()),
  });
export const InventoryRequestFrame = /* @__PURE__ */ inventoryRequestFrame();

/** server → agent: this section's content is stored (or was already). */
export const inventoryAckFrame = () =>
  v.object({
    ...versionEntries(),
    type: v.literal("inventory_ack"),
    section: section(),
    content_hash: sha256Hex(),
  });
export const InventoryAckFrame = /* @__PURE__ */ inventoryAckFrame();
