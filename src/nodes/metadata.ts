import { eq, sql } from "drizzle-orm";
import * as v from "valibot";
import type { Database } from "../db/client";
import { nodes, nodeTags } from "../db/schema";
import { ApiError } from "../errors";

// The operator's own fields of a node (seed 003 "notes, tags and custom URLs", 001 tags):
// free text and labels Outpost never derives from the machine.

/** A tag as stored: lower case, starts with a letter or digit, then letters, digits and `_.:=-`. */
export const TAG_PATTERN = /^[a-z0-9][a-z0-9_.:=-]{0,62}$/;
export const MAX_TAGS = 50;
const MAX_DISPLAY_NAME = 128;
const MAX_NOTES = 10_000;
const MAX_CUSTOM_URLS = 20;

/** One tag, lower-cased before it is checked (so `Web` is `web`). */
export const Tag = v.pipe(
  v.string("must be a string"),
  v.trim(),
  v.toLowerCase(),
  v.regex(TAG_PATTERN, "must be 1–63 characters of a-z, 0-9 and _.:=- starting with a letter or digit"),
);

/** A node's tags: deduplicated in the order given, at most 50. */
export const Tags = v.pipe(
  v.array(Tag, "must be an array of tags"),
  v.transform((tags) => [...new Set(tags)]),
  v.maxLength(MAX_TAGS, `must have at most ${MAX_TAGS} tags`),
);

const HttpUrl = v.pipe(
  v.string("must be a string"),
  v.maxLength(2048, "must be at most 2048 characters"),
  v.check((raw) => {
    try {
      const url = new URL(raw);
      return url.protocol === "http:" || url.protocol === "https:";
    } catch {
      return false;
    }
  }, "must be an http or https URL"),
);

/** A link an operator attaches to a node (its web UI, a runbook, a dashboard). */
export const CustomUrl = v.strictObject({
  name: v.pipe(
    v.string("must be a string"),
    v.trim(),
    v.minLength(1, "can't be blank"),
    v.maxLength(64, "must be at most 64 characters"),
  ),
  url: HttpUrl,
});
export type CustomUrl = v.InferOutput<typeof CustomUrl>;

/** The settable operator fields of `PATCH /nodes/{id}`; `null` clears display name and notes. */
export const NodeMetadataFields = {
  display_name: v.optional(
    v.nullable(
      v.pipe(
        v.string("must be a string"),
        v.trim(),
        v.maxLength(MAX_DISPLAY_NAME, `must be at most ${MAX_DISPLAY_NAME} characters`),
      ),
    ),
  ),
  tags: v.optional(Tags),
  notes: v.optional(
    v.nullable(
      v.pipe(v.string("must be a string"), v.maxLength(MAX_NOTES, `must be at most ${MAX_NOTES} characters`)),
    ),
  ),
  custom_urls: v.optional(
    v.pipe(
      v.array(CustomUrl, "must be an array of {name, url}"),
      v.maxLength(MAX_CUSTOM_URLS, `must have at most ${MAX_CUSTOM_URLS} entries`),
    ),
  ),
};

/** What `PATCH /nodes/{id}` may change of the operator fields (absent = unchanged). */
export interface NodeMetadataChange {
  display_name?: string | null;
  tags?: string[];
  notes?: string | null;
  custom_urls?: CustomUrl[];
}

/** True when the change sets any operator field. */
export function hasMetadataChange(change: NodeMetadataChange): boolean {
  return (
    change.display_name !== undefined ||
    change.tags !== undefined ||
    change.notes !== undefined ||
    change.custom_urls !== undefined
  );
}

/**
 * Writes the operator fields of one node in one batch: the node row and, when tags change, its
 * node_tags rows (replaced), so a tag filter never sees a half-applied change. 404 without the node.
 */
export async function updateNodeMetadata(
  db: Database,
  id: string,
  change: NodeMetadataChange,
): Promise<void> {
  if (!hasMetadataChange(change)) return;
  const set: Partial<typeof nodes.$inferInsert> = { updatedAt: Date.now() };
  if (change.display_name !== undefined) set.displayName = change.display_name || null;
  if (change.notes !== undefined) set.notes = change.notes;
  if (change.custom_urls !== undefined) set.customUrls = JSON.stringify(change.custom_urls);
  if (change.tags !== undefined) set.tags = JSON.stringify(change.tags);
  const update = db.update(nodes).set(set).where(eq(nodes.id, id)).returning({ id: nodes.id });
  if (change.tags === undefined) {
    if ((await update).length === 0) throw new ApiError("not_found", "Node not found");
    return;
  }
  const tags = change.tags;
  const [updated] = await db.batch([
    update,
    db.delete(nodeTags).where(eq(nodeTags.nodeId, id)),
    // Inserted only while the node exists, so a concurrent delete leaves no orphan tags.
    ...tags.map((tag) =>
      db.run(
        sql`INSERT INTO ${nodeTags} (node_id, tag) SELECT ${id}, ${tag} WHERE EXISTS (SELECT 1 FROM ${nodes} WHERE id = ${id})`,
      ),
    ),
  ]);
  if (updated.length === 0) throw new ApiError("not_found", "Node not found");
}

/** Parses a stored JSON array column, tolerating rows written before the column existed. */
export function storedList<T>(json: string | null): T[] {
  if (!json) return [];
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? (parsed as T[]) : [];
  } catch {
    return [];
  }
}
