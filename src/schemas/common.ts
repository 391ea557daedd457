import * as v from "valibot";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID path parameter (any version, so ids from other systems still resolve); lower-cased. */
export const UuidParam = v.pipe(
  v.string(),
  v.regex(UUID, "must be a UUID"),
  v.transform((s) => s.toLowerCase()),
);

/** An ISO 8601 datetime with an explicit UTC offset; yields epoch ms. */
export const DateTimeInput = v.pipe(
  v.string("must be an ISO 8601 datetime"),
  v.isoTimestamp("must be an ISO 8601 datetime with offset, e.g. 2026-12-31T23:59:59Z"),
  v.transform((s) => Date.parse(s)),
);

/** A datetime that must lie in the future at request time. */
export const FutureDateTimeInput = v.pipe(
  DateTimeInput,
  v.check((ms) => ms > Date.now(), "must be in the future"),
);

/** Documented ISO 8601 datetime in responses. */
export const DateTimeOutput = v.pipe(
  v.string(),
  v.isoTimestamp(),
  v.metadata({ examples: ["2025-06-09T08:00:00Z"] }),
);

export const UuidOutput = v.pipe(v.string(), v.uuid());

/** `meta` of single responses. */
export const MetaSchema = v.object({
  request_id: v.pipe(v.string(), v.description("Unique request identifier")),
  timestamp: v.pipe(v.string(), v.isoTimestamp(), v.description("ISO 8601 UTC response timestamp")),
});

/** The contract's `Pagination`. */
export const PaginationSchema = v.object({
  has_next: v.boolean(),
  has_prev: v.boolean(),
  next_page: v.nullable(v.number()),
  page: v.number(),
  page_size: v.number(),
  prev_page: v.nullable(v.number()),
  total_count: v.number(),
  total_pages: v.number(),
});

export const PaginatedMetaSchema = v.object({ ...MetaSchema.entries, pagination: PaginationSchema });

/** Paging by an opaque cursor, for lists that cannot count (a node's logs): no totals, no page numbers. */
export const CursorPaginationSchema = v.object({
  page_size: v.number(),
  has_next: v.boolean(),
  next_cursor: v.pipe(v.nullable(v.string()), v.description("Pass as `cursor` for the next page")),
});
export type CursorPagination = v.InferOutput<typeof CursorPaginationSchema>;

export const CursorMetaSchema = v.object({
  ...MetaSchema.entries,
  pagination: CursorPaginationSchema,
  scan_truncated: v.optional(
    v.pipe(
      v.boolean(),
      v.description("The scan budget ran out before the page was full; go on with next_cursor"),
    ),
  ),
});

export const ErrorBodySchema = v.object({
  error: v.object({
    code: v.string(),
    message: v.string(),
    details: v.nullable(v.record(v.string(), v.array(v.string()))),
  }),
  meta: MetaSchema,
});

/**
 * Messages for object-level issues of a request body: missing keys, unknown keys, wrong type.
 * @example v.strictObject({ name: Name }, objectMessage)
 */
export function objectMessage(issue: v.BaseIssue<unknown>): string {
  if (issue.expected === "never") return "is not a known field";
  if (issue.received === "undefined" && issue.expected?.startsWith('"')) return "is required";
  return "must be an object";
}
