/**
 * Value arbitraries for the API fuzzer: nasty string catalogs, junk JSON,
 * schema-driven (valid-ish) values and mutations of them. Values may contain
 * `Ref`s, placeholders for seeded resources resolved when the request is sent.
 */
import fc from "fast-check";
import type { JsonSchema } from "./operations";

/** A placeholder for a seeded resource (cluster name, node id, …), resolved at send time. */
export class Ref {
  constructor(
    readonly key: string,
    readonly transform: "none" | "upper" | "blob" = "none",
  ) {}
  toString(): string {
    return `$${this.key}${this.transform === "none" ? "" : `:${this.transform}`}`;
  }
  [fc.toStringMethod](): string {
    return this.toString();
  }
}

export const ref = (key: string, transform: Ref["transform"] = "none") => new Ref(key, transform);

/** Replaces every Ref in `value` (deeply) with the pool's current value. */
export function resolveRefs(value: unknown, pool: Record<string, string>): unknown {
  if (value instanceof Ref) {
    const v = pool[value.key] ?? `missing-${value.key}`;
    return value.transform === "upper" ? v.toUpperCase() : v;
  }
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, pool));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // defineProperty keeps a `__proto__` key an own property, as JSON.parse would.
      Object.defineProperty(out, k, {
        value: resolveRefs(v, pool),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

// ---------------------------------------------------------------- catalogs

/** SQL, LIKE and GLOB metacharacters, and classic injections. */
export const SQL_META = [
  "%",
  "_",
  "*",
  "?",
  "[",
  "]",
  "'",
  '"',
  "\\",
  "--",
  ";",
  "%%",
  "_%_",
  "%_%",
  "a*b?c[",
  "[!a]*",
  "[^a]",
  "[a-z]*",
  "*[*",
  "[[]",
  "\\%",
  "\\_",
  "\\*",
  "*\\*",
  "' OR '1'='1",
  "' OR 1=1 --",
  "'; DROP TABLE clusters; --",
  '" OR ""="',
  "1; SELECT 1",
  "x') OR ('1'='1",
  "%' ESCAPE '|",
  "' UNION SELECT name FROM sqlite_master --",
  "*' || '",
  "$1",
  "?1",
  ":name",
  "@x",
  "/*",
  "*/",
  "**",
  "***",
  "*?*",
  "%*%",
];

/** Unicode edge cases: NUL, lone surrogates, RTL, BOM, zero-width, combining, astral. */
export const UNICODE = [
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff",
  "x\ud83dy",
  "\udc00\ud800",
  "\u202e\u0645\u0631\u062d\u0628\u0627",
  "\u202egnp.exe",
  "\u200f\u200e",
  "\ufeff",
  "\u200b",
  "e\u0301\u0301\u0301",
  "😀",
  "👩‍👩‍👧‍👦",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
  "Ω≈ç√",
  "ﷺ",
  "\u0085",
  "\u2028\u2029",
  "İı",
  "ß",
  "\uffff",
  "\ufffd",
  "\u{10ffff}",
  "\t\r\n",
  "\u001b[31m",
  "\u007f",
  "ＡＢＣ",
  "٣",
  "ℌ",
];

export const NUMERIC_STRINGS = [
  "0",
  "-1",
  "1",
  "1.5",
  "1.0",
  "1e3",
  "1e309",
  "-0",
  "NaN",
  "Infinity",
  "-Infinity",
  "0x10",
  "010",
  " 1",
  "1 ",
  "+1",
  "9007199254740993",
  "99999999999",
  "999999999999999",
  "9999999999999999999999",
  "4294967296",
  "2147483648",
  "1000000000",
  "1000000001",
  "",
  "١",
  "1_000",
  "0.0000001",
  "-9999999999",
];

export const BOOL_STRINGS = [
  "true",
  "false",
  "True",
  "FALSE",
  "1",
  "0",
  "yes",
  "no",
  "on",
  "",
  "null",
  "undefined",
  "2",
  "-1",
  "t",
];

export const DATE_STRINGS = [
  "2025-06-09T08:00:00Z",
  "2025-06-09",
  "2099-06-09T08:00:00+02:00",
  "2025-02-30",
  "2025-02-29",
  "2024-02-29",
  "2025-13-01T00:00:00Z",
  "0000-01-01",
  "0000-01-01T00:00:00Z",
  "9999-12-31T23:59:59+14:00",
  "9999-12-31",
  "2025-06-09T08:00:00",
  "2025-06-09 08:00Z",
  "2025-06-09t08:00:00z",
  "2025-06-09T24:00:00Z",
  "2025-06-09T23:59:60Z",
  "275760-09-13T00:00:00Z",
  "-000001-01-01T00:00:00Z",
  "2025-06-09T08:00:00.123456789Z",
  "2025-06-09T08:00:00.1234567890Z",
  "2025-06-09T08:00+9999",
  "2025-06-09T08:00:00+99:99",
  "2025-06-09T08:00:00-00:00",
  "1e12",
  "now",
  "1749456000",
  "2025-W23",
  "2025-160",
  "Mon, 09 Jun 2025 08:00:00 GMT",
];

export const UUID_JUNK = [
  "",
  "not-a-uuid",
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
  "00000000-0000-0000-0000-00000000000g",
  "3f2504e0-4f89-41d3-9a0c-0305e82c3301x",
  " 3f2504e0-4f89-41d3-9a0c-0305e82c3301",
  "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}",
  "3f2504e04f8941d39a0c0305e82c3301",
  "3f2504e0-4f89-41d3-9a0c-0305e82c330",
  "urn:uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301",
  "1",
  "-1",
  "0",
  "null",
  "undefined",
  "true",
  "[]",
  "{}",
  "..",
  ".",
  "%",
  "%%",
  "*",
];

export const EVENT_TYPES_FALLBACK = ["edge.command_execution.created", "edge.node.registered"];

// ---------------------------------------------------------------- junk

const HUGE_SIZES = [1_000, 10_000, 100_000];

/** Long strings (up to ~100 KB); rarely chosen by the callers' weights. */
export const hugeString: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom("a", "é", "%", "*", "'", "\u0000", "😀", "\ud800", "-", "0"),
    fc.constantFrom(...HUGE_SIZES),
  )
  .map(([ch, n]) => ch.repeat(Math.ceil(n / ch.length)));

export const loneSurrogateString: fc.Arbitrary<string> = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom("a", "-", "0", " "),
  ),
  maxLength: 12,
});

/** Any nasty short string. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SQL_META) },
  { weight: 3, arbitrary: fc.constantFrom(...UNICODE) },
  { weight: 1, arbitrary: fc.constantFrom(...NUMERIC_STRINGS) },
  { weight: 1, arbitrary: fc.constantFrom(...BOOL_STRINGS) },
  { weight: 1, arbitrary: fc.constantFrom(...DATE_STRINGS) },
  { weight: 1, arbitrary: fc.constantFrom(...UUID_JUNK) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 1, arbitrary: loneSurrogateString },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...SQL_META), fc.constantFrom(...UNICODE), fc.string({ maxLength: 6 }))
      .map((parts) => parts.join("")),
  },
);

/** A deeply nested array or object (depth 20 … 5000). */
export const deepValue: fc.Arbitrary<unknown> = fc
  .tuple(fc.constantFrom(20, 200, 5000), fc.boolean())
  .map(([depth, asObject]) => {
    let v: unknown = asObject ? { x: 1 } : [1];
    for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
    return v;
  });

/** Scalars of every JSON type, with edge values. */
export const junkScalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -0,
    -1,
    1,
    1.5,
    -0.0001,
    1e308,
    -1e308,
    2 ** 53 + 2,
    -(2 ** 63),
    2 ** 31,
    2 ** 31 - 1,
    Number.MIN_VALUE,
    "",
    " ",
    "null",
    "true",
    "1",
    "[]",
    "{}",
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  nastyString,
);

/** Arbitrary junk JSON values (objects, arrays, scalars). */
export const junkJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: junkScalar },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(junkScalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(nastyString, junkScalar, { maxKeys: 4 }) },
  { weight: 1, arbitrary: deepValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom({ __proto__: null }, JSON.parse('{"__proto__":{"x":1}}'), {
      constructor: { prototype: 1 },
    }),
  },
);

// ---------------------------------------------------------------- schema-driven

/** Field-name hints: values that hit seeded resources or nearly-valid shapes. */
export type Hints = Record<string, fc.Arbitrary<unknown>>;

function futureIso(): fc.Arbitrary<string> {
  return fc
    .integer({ min: 60, max: 10 * 365 * 86_400 })
    .map((s) => new Date(Date.now() + s * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"));
}

function stringFor(schema: JsonSchema): fc.Arbitrary<unknown> {
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 40, 60);
  if (schema.format === "date-time")
    return fc.oneof({ weight: 3, arbitrary: futureIso() }, fc.constantFrom(...DATE_STRINGS));
  if (schema.format === "uuid")
    return fc.oneof(
      fc.uuid(),
      fc.uuid().map((u) => u.toUpperCase()),
    );
  if (schema.pattern) {
    try {
      const re = new RegExp(schema.pattern);
      return fc
        .stringMatching(re, { size: "xsmall" })
        .map((s) => (s.length > max && max >= min ? s.slice(0, max) : s));
    } catch {
      // fall through: not a JS regex
    }
  }
  return fc.string({
    minLength: Math.min(min, max),
    maxLength: Math.max(min, max),
    unit: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-") },
      { weight: 1, arbitrary: fc.constantFrom(...UNICODE) },
    ),
  });
}

/**
 * A value meant to satisfy `schema` (often does; hints and pattern slicing
 * make some misses, which is fine for a fuzzer).
 */
export function fromSchema(
  schema: JsonSchema,
  hints: Hints = {},
  name?: string,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (name && hints[name] && !schema.__hinted) {
    return fc.oneof(
      { weight: 1, arbitrary: fromSchema({ ...schema, __hinted: true }, hints, name, depth) },
      { weight: 2, arbitrary: hints[name] },
    );
  }
  if (depth > 6) return fc.constant(null);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives))
    return fc.oneof(
      ...alternatives.map((s: JsonSchema) =>
        fromSchema(s, hints, schema.__hinted ? undefined : name, depth + 1),
      ),
    );
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      return stringFor(schema);
    case "integer": {
      const min = schema.minimum ?? -1000;
      const max = schema.maximum ?? Math.max(min + 1000, 1000);
      return fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min, max: Math.min(max, min + 10_000) }) },
        fc.integer({ min, max }),
      );
    }
    case "number":
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const items = fromSchema(schema.items ?? {}, hints, name ? `${name}[]` : undefined, depth + 1);
      return fc.array(items, {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, 4),
      });
    }
    case "object": {
      const props: Record<string, JsonSchema> = schema.properties ?? {};
      const required: string[] = schema.required ?? [];
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, sub] of Object.entries(props)) shape[key] = fromSchema(sub, hints, key, depth + 1);
      const base = Object.keys(shape).length
        ? fc.record(shape, { requiredKeys: required.filter((k) => k in shape) })
        : fc.constant({});
      if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
        const keys = schema.propertyNames?.pattern
          ? fc.stringMatching(new RegExp(schema.propertyNames.pattern), { size: "xsmall" })
          : fc.string({ maxLength: 10 });
        const extra = fc.dictionary(
          keys,
          fromSchema(schema.additionalProperties, hints, undefined, depth + 1),
          { maxKeys: 3 },
        );
        return fc.tuple(base, extra).map(([a, b]) => ({ ...b, ...a }));
      }
      return base;
    }
    default:
      return junkJson;
  }
}

// ---------------------------------------------------------------- mutations

/** Values of the wrong type for `value` ("1" for 1, 1.5 for 1, "true" for true, …). */
export function typeConfusion(value: unknown): fc.Arbitrary<unknown> {
  const common = [null, [], {}, [value], { value }];
  if (typeof value === "number") {
    return fc.constantFrom(
      String(value),
      value + 0.5,
      -value,
      -Math.abs(value) - 1,
      0,
      1e21,
      1e300,
      2 ** 53 + 1,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      `${value}.0`,
      `${value}e0`,
      true,
      ...common,
    );
  }
  if (typeof value === "boolean")
    return fc.constantFrom(String(value), value ? 1 : 0, value ? "1" : "0", "yes", ...common);
  if (typeof value === "string") {
    const n = Number(value);
    return fc.constantFrom(
      Number.isNaN(n) ? value.length : n,
      `${value}\u0000`,
      ` ${value} `,
      value.toUpperCase(),
      `${value}${value}`.repeat(40),
      `${value}\ud800`,
      value.normalize("NFD"),
      true,
      ...common,
    );
  }
  return fc.constantFrom("", 0, false, "null", ...common);
}

function setPath(target: any, path: (string | number)[], value: unknown): any {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy = Array.isArray(target) ? [...target] : { ...target };
  copy[head] = setPath(target?.[head], rest, value);
  return copy;
}

function deletePath(target: any, path: (string | number)[]): any {
  if (path.length === 0) return undefined;
  const [head, ...rest] = path;
  if (rest.length === 0) {
    if (Array.isArray(target)) return target.filter((_, i) => i !== head);
    const { [head]: _drop, ...others } = target ?? {};
    return others;
  }
  const copy = Array.isArray(target) ? [...target] : { ...target };
  copy[head] = deletePath(target?.[head], rest);
  return copy;
}

/** Every path to a value inside a JSON value (objects and arrays, depth ≤ 4). */
export function leafPaths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(prefix);
  if (prefix.length >= 4) return out;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) leafPaths(v, [...prefix, i], out);
  } else if (value && typeof value === "object" && !(value instanceof Ref))
    for (const [k, v] of Object.entries(value)) leafPaths(v, [...prefix, k], out);
  return out;
}

function getPath(value: any, path: (string | number)[]): unknown {
  return path.reduce((v, k) => (v == null ? v : v[k]), value);
}

/**
 * One mutation of a valid-ish value: a field dropped, an unknown field added,
 * a value replaced by junk or by a type confusion, nulls everywhere, the
 * whole value wrapped or replaced.
 */
export function mutate(valid: unknown): fc.Arbitrary<unknown> {
  const paths = leafPaths(valid);
  const pathArb = fc.constantFrom(...paths);
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .tuple(pathArb, fc.oneof({ weight: 3, arbitrary: junkJson }, { weight: 1, arbitrary: hugeString }))
        .map(([p, junk]) => setPath(valid, p, junk)),
    },
    {
      weight: 3,
      arbitrary: pathArb.chain((p) => typeConfusion(getPath(valid, p)).map((v) => setPath(valid, p, v))),
    },
    // (only when there is something to delete: a filter that can never pass would spin forever)
    ...(paths.length > 1
      ? [{ weight: 2, arbitrary: fc.constantFrom(...paths.slice(1)).map((p) => deletePath(valid, p)) }]
      : []),
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          pathArb,
          fc.oneof(
            nastyString,
            fc.constantFrom("extra", "NAME", "name ", "__proto__", "constructor", "", "id", "inserted_at"),
          ),
          junkJson,
        )
        .map(([p, key, v]) => {
          const target = getPath(valid, p);
          if (!target || typeof target !== "object" || Array.isArray(target))
            return { ...(valid as object), [key]: v };
          const extended = { ...(target as object) };
          Object.defineProperty(extended, key, {
            value: v,
            enumerable: true,
            writable: true,
            configurable: true,
          });
          return setPath(valid, p, extended);
        }),
    },
    {
      weight: 1,
      arbitrary: fc.constant(
        valid && typeof valid === "object" && !Array.isArray(valid)
          ? Object.fromEntries(Object.keys(valid).map((k) => [k, null]))
          : null,
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom([valid], JSON.stringify(valid) ?? "null", { data: valid }, [], null, 0, ""),
    },
    { weight: 1, arbitrary: deepValue.chain((deep) => pathArb.map((p) => setPath(valid, p, deep))) },
  );
}
