import {
  type Assembly,
  assembleChunks,
  CHUNK_DATA_BYTES,
  MAX_CHUNKS,
} from "../../src/protocol/inventory-chunks";
import type { InventorySection } from "../../src/protocol/inventory-sections";
import { lazySchemaSql, type Sql } from "./lazy-sql";

/** Slices of an incomplete section older than this are dropped: the agent re-sends the whole at its next report. */
export const CHUNK_TTL_MS = 15 * 60_000;
/**
 * Characters of slices one node may have waiting, all sections together: one whole section's worth.
 * An agent sends sections one after another, so only a sender that starts many and finishes none
 * reaches it.
 */
export const MAX_PENDING_CHARS = MAX_CHUNKS * CHUNK_DATA_BYTES;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS inventory_chunks (
     section TEXT NOT NULL, content_hash TEXT NOT NULL, idx INTEGER NOT NULL, count INTEGER NOT NULL,
     data TEXT NOT NULL, received_at INTEGER NOT NULL, PRIMARY KEY (section, content_hash, idx))`,
];

/** One slice as it arrived in an `inventory_chunk` frame. */
export interface ChunkIn {
  section: InventorySection;
  content_hash: string;
  index: number;
  count: number;
  data: string;
}

/**
 * The slices of sections that arrive in `inventory_chunk` frames, kept in the object's own SQLite
 * until the last one is in: the object may be evicted from memory between two frames of one
 * section, and a slice is at most 512 KiB, under the storage's 2 MB value limit.
 */
export class InventoryChunks {
  readonly #sql: Sql;

  constructor(storage: SqlStorage) {
    this.#sql = lazySchemaSql(storage, SCHEMA);
  }

  /**
   * Keeps a slice (a copy of one already kept replaces it) and says whether its section is now
   * whole. A slice of newer content drops the older content's slices, so one section holds one
   * partial copy at most; slices older than `CHUNK_TTL_MS` are dropped on the way.
   */
  add(chunk: ChunkIn, now = Date.now()): Assembly {
    this.#sql`DELETE FROM inventory_chunks
      WHERE (section = ${chunk.section} AND content_hash != ${chunk.content_hash}) OR received_at < ${now - CHUNK_TTL_MS}`;
    this.#sql`INSERT OR REPLACE INTO inventory_chunks (section, content_hash, idx, count, data, received_at)
      VALUES (${chunk.section}, ${chunk.content_hash}, ${chunk.index}, ${chunk.count}, ${chunk.data}, ${now})`;
    const [{ pending }] = this.#sql<{
      pending: number | null;
    }>`SELECT sum(length(data)) AS pending FROM inventory_chunks`;
    if ((pending ?? 0) > MAX_PENDING_CHARS) {
      this.clear();
      return {
        state: "inconsistent",
        reason: `more than ${MAX_PENDING_CHARS} characters of unfinished sections`,
      };
    }
    const rows = this.#sql<{ idx: number; count: number; data: string }>`
      SELECT idx, count, data FROM inventory_chunks
       WHERE section = ${chunk.section} AND content_hash = ${chunk.content_hash} ORDER BY idx`;
    const assembly = assembleChunks(rows.map((r) => ({ index: r.idx, count: r.count, data: r.data })));
    // Slices that disagree (a changed count) are all dropped: the agent sends the section again later.
    if (assembly.state === "inconsistent") this.drop(chunk.section);
    return assembly;
  }

  /** Forgets a section's slices (it was stored, or could not be). */
  drop(section: InventorySection): void {
    this.#sql`DELETE FROM inventory_chunks WHERE section = ${section}`;
  }

  /** How many slices are kept (tests). */
  size(): number {
    return this.#sql<{ n: number }>`SELECT count(*) AS n FROM inventory_chunks`[0].n;
  }

  /** Forgets everything (the node was deleted). */
  clear(): void {
    this.#sql`DELETE FROM inventory_chunks`;
  }
}
