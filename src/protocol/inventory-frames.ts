import * as v from "valibot";
import { CHUNK_DATA_BYTES, MAX_CHUNKS } from "./inventory-chunks";
import { INVENTORY_SECTIONS, SECTION_DATA } from "./inventory-sections";

// The inventory's frames (issue 18), part of the one catalog in ./frames.ts. The server asks with
// `inventory_request` (at every hello with the hashes it already has, and when an operator asks for
// a refresh); the agent answers with one `inventory` frame per section whose hash differs; the
// server settles each with `inventory_ack`, after which the agent stops re-sending that content.

/** The capability an agent announces in its hello when it speaks these frames. */
export const INVENTORY_CAPABILITY = "inventory.v1";

const version = { v: v.literal(1) };
const Section = v.picklist(INVENTORY_SECTIONS);
const Hash = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "must be a lowercase hex SHA-256"));
const RequestId = v.pipe(v.string(), v.minLength(1), v.maxLength(128));

/** agent → server: one section, its content hash, and its data or why it is unavailable. */
export const InventoryFrame = v.pipe(
  v.object({
    ...version,
    type: v.literal("inventory"),
    section: Section,
    status: v.picklist(["ok", "unavailable"]),
    reason: v.optional(v.pipe(v.string(), v.maxLength(512))),
    content_hash: Hash,
    /** Epoch ms when the agent collected it. */
    collected_at: v.pipe(v.number(), v.integer(), v.minValue(0)),
    /** Present when the report answers an `inventory_request` that carried one. */
    request_id: v.optional(RequestId),
    data: v.nullable(v.record(v.string(), v.unknown())),
  }),
  v.check(
    (f) => (f.status === "ok" ? f.data !== null && v.is(SECTION_DATA[f.section], f.data) : f.data === null),
    "data must match the section's schema (or be null when unavailable)",
  ),
);

/**
 * agent → server: one slice of a section too large for one frame (the JSON text of its `data`,
 * cut by `splitText`). The server keeps the slices until all `count` are there, then handles the
 * whole as one `inventory` frame with status `ok`; a slice received twice counts once.
 */
export const InventoryChunkFrame = v.pipe(
  v.object({
    ...version,
    type: v.literal("inventory_chunk"),
    section: Section,
    content_hash: Hash,
    collected_at: v.pipe(v.number(), v.integer(), v.minValue(0)),
    request_id: v.optional(RequestId),
    index: v.pipe(v.number(), v.integer(), v.minValue(0)),
    count: v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(MAX_CHUNKS)),
    // Characters: a slice is at most CHUNK_DATA_BYTES encoded, so never more characters than that.
    data: v.pipe(v.string(), v.minLength(1), v.maxLength(CHUNK_DATA_BYTES)),
  }),
  v.check((f) => f.index < f.count, "index must be below count"),
);

/** server → agent: collect these sections (all when absent) and report those whose hash differs from `known_hashes`. */
export const InventoryRequestFrame = v.object({
  ...version,
  type: v.literal("inventory_request"),
  request_id: v.optional(RequestId),
  sections: v.optional(v.pipe(v.array(Section), v.maxLength(INVENTORY_SECTIONS.length))),
  /** The hashes the server holds; a section with the same hash is not sent. Absent: send every section asked for. */
  known_hashes: v.optional(v.record(v.string(), Hash)),
  /** Let the package manager refresh its index before checking updates (apt-get update…); never otherwise. */
  refresh_cache: v.optional(v.boolean(), false),
  /** The server takes `inventory_chunk` frames: a section over one frame is sent in slices, not reported unavailable. */
  accepts_chunks: v.optional(v.boolean()),
});

/** server → agent: this section's content is stored (or was already). */
export const InventoryAckFrame = v.object({
  ...version,
  type: v.literal("inventory_ack"),
  section: Section,
  content_hash: Hash,
});
