import { type SQL, sql } from "drizzle-orm";
import * as v from "valibot";
import { UuidParam } from "../schemas/common";
import { parseIsoInstant } from "../time";

/**
 * How one query parameter turns into SQL. `parse` returns the value or an error message; `toSql`
 * gets what `parse` returned (methods, so a `FilterDef<string>` fits a table of `FilterDef`s).
 */
export interface FilterDef<T = unknown> {
  description: string;
  /** OpenAPI type of the parameter. */
  type: "string" | "integer" | "number" | "boolean";
  format?: "date-time";
  enum?: readonly string[];
  parse(raw: string): { value: T } | { error: string };
  /** `others`: every filter value of the same query, by parameter name (for filters that pair up). */
  toSql(value: T, others?: ReadonlyMap<string, unknown>): SQL | Promise<SQL>;
}

const BOOL_VALUES = new Map<string, boolean>([
  ["true", true],
  ["false", false],
  ["1", true],
  ["0", false],
]);
const MAX_TEXT = 512;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

// GLOB is case-sensitive and index-friendly; its own metacharacters are made literal.
function escapeGlob(text: string): string {
  return text.replace(/[*?[]/g, (ch) => `[${ch}]`);
}

function parseText(raw: string): { value: string } | { error: string } {
  if (raw.length === 0) return { error: "must not be empty" };
  if (raw.length > MAX_TEXT) return { error: `must be at most ${MAX_TEXT} characters` };
  return { value: raw };
}

/**
 * Exact match, or a wildcard pattern when the value contains `*`. Case-sensitive
 * unless `caseInsensitive`; with `substring`, a value without `*` matches anywhere.
 */
export function textFilter(
  expr: SQL,
  description: string,
  options: { caseInsensitive?: boolean; substring?: boolean } = {},
): FilterDef {
  return {
    description,
    type: "string",
    parse: parseText,
    toSql(value: string) {
      const hasWildcard = value.includes("*");
      if (options.caseInsensitive) {
        if (!hasWildcard && !options.substring) return sql`lower(${expr}) = lower(${value})`;
        const body = value.split("*").map(escapeLike).join("%");
        const pattern = hasWildcard ? body : `%${body}%`;
        return sql`lower(${expr}) LIKE lower(${pattern}) ESCAPE '\\'`;
      }
      if (!hasWildcard && !options.substring) return sql`${expr} = ${value}`;
      const body = value.split("*").map(escapeGlob).join("*");
      return sql`${expr} GLOB ${hasWildcard ? body : `*${body}*`}`;
    },
  };
}

/** Exact match against one of a fixed set of values. */
export function enumFilter(expr: SQL, values: readonly string[], description: string): FilterDef {
  return {
    description,
    type: "string",
    enum: values,
    parse: (raw) =>
      values.includes(raw) ? { value: raw } : { error: `must be one of: ${values.join(", ")}` },
    toSql: (value: string) => sql`${expr} = ${value}`,
  };
}

function parseInteger(raw: string): { value: number } | { error: string } {
  if (!/^-?\d{1,15}$/.test(raw)) return { error: "must be an integer" };
  return { value: Number(raw) };
}

/** Exact integer match. */
export function integerFilter(expr: SQL, description: string): FilterDef {
  return {
    description,
    type: "integer",
    parse: parseInteger,
    toSql: (value: number) => sql`${expr} = ${value}`,
  };
}

function parseNumber(raw: string): { value: number } | { error: string } {
  if (!/^-?\d{1,15}(\.\d{1,6})?$/.test(raw)) return { error: "must be a number" };
  return { value: Number(raw) };
}

/**
 * `name__gte` / `name__lte` on a column of decimal numbers (percentages, load); rows where the
 * column is null (nothing reported yet) match neither bound.
 */
export function numberRangeFilters(name: string, expr: SQL, label = name): Record<string, FilterDef> {
  const make = (bound: "gte" | "lte"): FilterDef => ({
    description: `Filter by ${bound === "gte" ? "minimum" : "maximum"} ${label}`,
    type: "number",
    parse: parseNumber,
    toSql: (value: number) => (bound === "gte" ? sql`${expr} >= ${value}` : sql`${expr} <= ${value}`),
  });
  return { [`${name}__gte`]: make("gte"), [`${name}__lte`]: make("lte") };
}

/** `name__gte` / `name__lte` on an integer or datetime (epoch-ms) column; date-only bounds cover the whole day. */
export function rangeFilters(
  name: string,
  expr: SQL,
  kind: "integer" | "datetime",
  label = name,
): Record<string, FilterDef> {
  const make = (bound: "gte" | "lte"): FilterDef => {
    const op = bound === "gte" ? sql`>=` : sql`<=`;
    const word = bound === "gte" ? "on or after" : "on or before";
    if (kind === "integer") {
      return {
        description: `Filter by ${bound === "gte" ? "minimum" : "maximum"} ${label}`,
        type: "integer",
        parse: parseInteger,
        toSql: (value: number) => sql`${expr} ${op} ${value}`,
      };
    }
    return {
      description: `Filter records where ${label} is ${word} this datetime (ISO 8601 datetime; date-only is treated as ${bound === "gte" ? "start" : "end"} of day UTC)`,
      type: "string",
      format: "date-time",
      parse(raw) {
        const ms = parseIsoInstant(raw, bound === "gte" ? "start" : "end");
        return ms === null
          ? {
              error:
                "must be an ISO 8601 datetime with offset (e.g. 2025-06-09T08:00:00Z) or a date (2025-06-09)",
            }
          : { value: ms };
      },
      toSql: (value: number) => sql`${expr} ${op} ${value}`,
    };
  };
  return { [`${name}__gte`]: make("gte"), [`${name}__lte`]: make("lte") };
}

/** A boolean parameter; `when(true|false)` gives the condition. */
export function booleanFilter(description: string, when: (value: boolean) => SQL): FilterDef {
  return {
    description,
    type: "boolean",
    parse: (raw) =>
      BOOL_VALUES.has(raw) ? { value: BOOL_VALUES.get(raw) } : { error: "must be true or false" },
    toSql: (value: boolean) => when(value),
  };
}

/** A boolean that is true when `expr` is not null. */
export function presenceFilter(expr: SQL, description: string): FilterDef {
  return booleanFilter(description, (value) => (value ? sql`${expr} IS NOT NULL` : sql`${expr} IS NULL`));
}

/** Exact match of a UUID column; any case is accepted and compared lower-cased, as ids are stored. */
export function uuidFilter(expr: SQL, description: string): FilterDef {
  return {
    description,
    type: "string",
    parse: (raw) => (v.is(UuidParam, raw) ? { value: raw.toLowerCase() } : { error: "must be a UUID" }),
    toSql: (id: string) => sql`${expr} = ${id}`,
  };
}
