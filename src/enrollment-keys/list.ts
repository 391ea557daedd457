import { sql } from "drizzle-orm";
import { sha256Hex } from "../crypto/secrets";
import { clusters, enrollmentKeys } from "../db/schema";
import { decodeKeyBlob } from "../enrollment/key-blob";
import type { ListSpec } from "../list-query/engine";
import {
  booleanFilter,
  integerFilter,
  presenceFilter,
  rangeFilters,
  textFilter,
} from "../list-query/filters";

const k = enrollmentKeys;
/** The enrollment key list's field table (rows are keys joined to their cluster). */
export const enrollmentKeyListSpec: ListSpec = {
  filters: {
    cluster_name: textFilter(
      sql`${clusters.name}`,
      "Filter by cluster name (exact match or wildcard: prod*, *east)",
    ),
    name: textFilter(
      sql`${k.name}`,
      "Filter by enrollment key name (case-insensitive substring or wildcard)",
      {
        caseInsensitive: true,
        substring: true,
      },
    ),
    key: {
      description: "Filter by exact key value (the blob returned as `key`)",
      type: "string",
      parse: (raw) =>
        raw.length > 0 && raw.length <= 4096 ? { value: raw } : { error: "must be 1–4096 characters" },
      // Keys are stored hashed: hash the secret inside the blob (or the raw value) and compare hashes.
      toSql: async (raw: string) => sql`${k.keyHash} = ${await sha256Hex(decodeKeyBlob(raw)?.key ?? raw)}`,
    },
    has_expiry: presenceFilter(sql`${k.expiredAt}`, "Filter by whether the key has an expiry set"),
    has_name: presenceFilter(sql`${k.name}`, "Filter by whether the key has a name set"),
    is_expired: booleanFilter("Filter by whether the key is expired (expired_at in the past)", (expired) =>
      expired
        ? sql`(${k.expiredAt} IS NOT NULL AND ${k.expiredAt} <= ${Date.now()})`
        : sql`(${k.expiredAt} IS NULL OR ${k.expiredAt} > ${Date.now()})`,
    ),
    is_never_used: booleanFilter(
      "Filter by whether the key has never been used (last_used_at is null)",
      (never) => (never ? sql`${k.lastUsedAt} IS NULL` : sql`${k.lastUsedAt} IS NOT NULL`),
    ),
    is_spent: booleanFilter("Filter by whether the key is exhausted (uses_remaining == 0)", (spent) =>
      spent ? sql`${k.usesRemaining} = 0` : sql`(${k.usesRemaining} IS NULL OR ${k.usesRemaining} > 0)`,
    ),
    is_unlimited: booleanFilter(
      "Filter by whether the key has unlimited uses (uses_remaining is null)",
      (unlimited) => (unlimited ? sql`${k.usesRemaining} IS NULL` : sql`${k.usesRemaining} IS NOT NULL`),
    ),
    requires_approval: booleanFilter(
      "Filter by whether enrolment with the key waits for an administrator's approval",
      (requires) => sql`${k.requiresApproval} = ${requires ? 1 : 0}`,
    ),
    uses_remaining: integerFilter(sql`${k.usesRemaining}`, "Filter by exact uses_remaining"),
    ...rangeFilters("uses_remaining", sql`${k.usesRemaining}`, "integer"),
    ...rangeFilters("expired_at", sql`${k.expiredAt}`, "datetime"),
    ...rangeFilters("last_used_at", sql`${k.lastUsedAt}`, "datetime"),
    ...rangeFilters("inserted_at", sql`${k.insertedAt}`, "datetime"),
    ...rangeFilters("updated_at", sql`${k.updatedAt}`, "datetime"),
  },
  sortable: {
    name: sql`${k.name}`,
    cluster_name: sql`${clusters.name}`,
    uses_remaining: sql`${k.usesRemaining}`,
    expired_at: sql`${k.expiredAt}`,
    last_used_at: sql`${k.lastUsedAt}`,
    inserted_at: sql`${k.insertedAt}`,
    updated_at: sql`${k.updatedAt}`,
  },
  defaultOrder: [{ field: "inserted_at", direction: "asc" }],
  tieBreaker: sql`${k.id}`,
};
