/**
 * Fuzz requests: their model, arbitraries per operation (schema-guided and
 * pure junk), how they are turned into a real `Request`, and the response
 * invariants they are checked against.
 */
import fc from "fast-check";
import { ERROR_STATUS } from "../../../workers/errors";
import { contentProblems } from "../response-schemas";
import { type FuzzOperation, type FuzzParam, matchingOperations } from "./operations";
import {
  BOOL_STRINGS,
  DATE_STRINGS,
  deepValue,
  fromSchema,
  type Hints,
  hugeString,
  junkJson,
  mutate,
  NUMERIC_STRINGS,
  nastyString,
  Ref,
  ref,
  resolveRefs,
  SQL_META,
  UNICODE,
  UUID_JUNK,
} from "./values";

// ---------------------------------------------------------------- model

/** A path or query value: a plain string (percent-encoded when sent), a raw URL fragment, or a Ref. */
export type UrlValue = string | Ref | { raw: string };

export type Auth =
  | { kind: "api" }
  | { kind: "master" }
  | { kind: "none" }
  | { kind: "header"; value: string };

export type Body =
  | { kind: "json"; value: unknown }
  | { kind: "text"; text: string }
  | { kind: "bytes"; bytes: number[] }
  | { kind: "stream"; text: string };

export interface FuzzRequest {
  method: string;
  /** Path template (`/api/v1/clusters/{name}`) or a literal path. */
  path: string;
  params: Record<string, UrlValue>;
  query: [UrlValue, UrlValue][];
  auth: Auth;
  contentType: string | null;
  body: Body | null;
  requestId: string | null;
  extraHeaders: [string, string][];
}

export interface Keys {
  apiKey: string;
  masterKey: string;
}

export interface Built {
  method: string;
  url: string;
  headers: Headers;
  body: BodyInit | undefined;
  authValid: boolean;
  /** The body as sent, when it was text (JSON or not). */
  bodyText: string | null;
  describe(): string;
}

// ---------------------------------------------------------------- building

/** Percent-encodes the UTF-8 bytes of `s` (lone surrogates become U+FFFD, as a browser would send them). */
export function percentEncode(s: string): string {
  const wellFormed = (s as any).toWellFormed
    ? (s as any).toWellFormed()
    : s.replace(/[\ud800-\udfff]/g, "\ufffd");
  return encodeURIComponent(wellFormed).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function urlValue(v: UrlValue, pool: Record<string, string>): string {
  if (v instanceof Ref) return percentEncode(String(resolveRefs(v, pool)));
  if (typeof v === "string") return percentEncode(v);
  return v.raw;
}

function clip(s: string, n = 300): string {
  return s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s;
}

export function buildRequest(req: FuzzRequest, pool: Record<string, string>, keys: Keys): Built {
  const path = req.path.replace(/\{(\w+)\}/g, (_, name) => urlValue(req.params[name] ?? "x", pool));
  const qs = req.query.map(([k, v]) => `${urlValue(k, pool)}=${urlValue(v, pool)}`).join("&");
  const url = qs ? `${path}?${qs}` : path;
  const headers = new Headers();
  let authValid = false;
  switch (req.auth.kind) {
    case "api":
      headers.set("authorization", `Bearer ${keys.apiKey}`);
      authValid = true;
      break;
    case "master":
      headers.set("authorization", `Bearer ${keys.masterKey}`);
      authValid = true;
      break;
    case "header":
      headers.set("authorization", req.auth.value.replace("$API_KEY", keys.apiKey));
      authValid = /^Bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "")?.[1] === keys.apiKey;
      break;
  }
  if (req.contentType !== null) headers.set("content-type", req.contentType);
  if (req.requestId !== null) headers.set("x-request-id", req.requestId);
  for (const [k, v] of req.extraHeaders) headers.append(k, v);
  let body: BodyInit | undefined;
  let bodyText = "";
  if (req.body && req.method !== "GET" && req.method !== "HEAD") {
    switch (req.body.kind) {
      case "json":
        bodyText = JSON.stringify(resolveRefs(req.body.value, pool)) ?? "";
        body = bodyText;
        break;
      case "text":
        bodyText = req.body.text;
        body = bodyText;
        break;
      case "bytes":
        bodyText = `bytes[${req.body.bytes.map((b) => b.toString(16)).join(" ")}]`;
        body = new Uint8Array(req.body.bytes);
        break;
      case "stream": {
        const bytes = new TextEncoder().encode(req.body.text);
        bodyText = `stream(${req.body.text})`;
        body = new ReadableStream({
          start(controller) {
            for (let i = 0; i < bytes.length; i += 64 * 1024)
              controller.enqueue(bytes.slice(i, i + 64 * 1024));
            controller.close();
          },
        });
        break;
      }
    }
  }
  return {
    method: req.method,
    url,
    headers,
    body,
    authValid,
    bodyText:
      req.body?.kind === "json" || req.body?.kind === "text" || req.body?.kind === "stream"
        ? req.body.kind === "stream"
          ? req.body.text
          : bodyText
        : null,
    describe() {
      const hs = [...headers].map(
        ([k, v]) =>
          `${k}: ${k === "authorization" ? v.replace(keys.apiKey, "$API_KEY").replace(keys.masterKey, "$MASTER_KEY") : clip(v, 80)}`,
      );
      return [
        `${req.method} ${clip(url, 500)}`,
        ...hs.map((h) => `  ${h}`),
        `  body: ${clip(bodyText, 500)}`,
      ].join("\n");
    },
  };
}

// ---------------------------------------------------------------- arbitraries

const VALID_AUTH = fc.constantFrom<Auth>(
  { kind: "api" },
  { kind: "master" },
  { kind: "header", value: "bearer $API_KEY" },
  { kind: "header", value: "Bearer   $API_KEY  " },
);

export const INVALID_AUTH: Auth[] = [
  { kind: "none" },
  { kind: "header", value: "" },
  { kind: "header", value: "Bearer" },
  { kind: "header", value: "Bearer " },
  { kind: "header", value: "Bearer wrong-key" },
  { kind: "header", value: "Bearer $API_KEYx" },
  { kind: "header", value: "Bearer $API_KEY extra" },
  { kind: "header", value: "Basic dXNlcjpwYXNz" },
  { kind: "header", value: "$API_KEY" },
  { kind: "header", value: "Token $API_KEY" },
  { kind: "header", value: "Bearer ' OR '1'='1" },
  { kind: "header", value: "Bearer %" },
  { kind: "header", value: `Bearer ${"x".repeat(8192)}` },
  { kind: "header", value: "Bearer null" },
];

export const authArb: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 7, arbitrary: VALID_AUTH },
  { weight: 3, arbitrary: fc.constantFrom(...INVALID_AUTH) },
);

const JSON_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/merge-patch+json",
  "APPLICATION/JSON",
  "application/json;charset=latin1",
];
const WRONG_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "",
  "application/jsonx",
  "application/xml",
  "text/json",
  "json",
  "*/*",
  "application/json-seq",
  "application/json\t",
];

export const contentTypeArb: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...JSON_TYPES) },
  { weight: 2, arbitrary: fc.constantFrom(...WRONG_TYPES) },
  { weight: 1, arbitrary: fc.constant(null) },
);

const SANE_IDS = ["req-12345678", "fuzz.request:0001", "A".repeat(128)];
const INSANE_IDS = [
  "",
  "short",
  "<script>",
  "A".repeat(129),
  "id with spaces",
  "req-1234567/",
  "req%2012345678",
  "'; DROP TABLE x; --",
];

export const requestIdArb: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom(...SANE_IDS) },
  { weight: 1, arbitrary: fc.constantFrom(...INSANE_IDS) },
);

const extraHeadersArb: fc.Arbitrary<[string, string][]> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<[string, string][]>([]) },
  {
    weight: 1,
    arbitrary: fc.array(
      fc.tuple(
        fc.constantFrom(
          "accept",
          "x-forwarded-for",
          "content-encoding",
          "accept-encoding",
          "x-http-method-override",
          "cookie",
          "x-request-id",
          "origin",
          "range",
          "content-type",
        ),
        fc.constantFrom(
          "gzip",
          "*/*",
          "text/html",
          "1.2.3.4, 5.6.7.8",
          "DELETE",
          "a=b; c=d",
          "bytes=0-10",
          "'",
          "%",
          "application/json",
        ),
      ),
      { maxLength: 3 },
    ),
  },
);

/** Malformed JSON texts, invalid UTF-8 and other junk bodies. */
const MALFORMED_JSON = [
  "{",
  "}",
  '{"name":',
  "{'name':'x'}",
  '{"a":1,}',
  "[1,2",
  "NaN",
  '{"name": NaN}',
  '{"node_limit": 1e400}',
  '{"uses_remaining": -1e400}',
  '{"uses_remaining": 1e-400}',
  '{"self_update_enabled": tru}',
  "\ufeff{}",
  "{}garbage",
  "{} {}",
  "null",
  '"str"',
  "1",
  "true",
  "[]",
  '{"name":"a","name":"b"}',
  "/* c */ {}",
  " ",
  "\u0000",
  '{"\u0000":1}',
  '{"name":"\\ud800"}',
  '{"name":"\\u0000"}',
  '{"name":"\\uZZZZ"}',
  '{"a":"\\',
  `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
  `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`,
  "\u2028{}",
  '{"__proto__": {"polluted": true}}',
  '{"constructor": {"prototype": {"polluted": true}}}',
];

const INVALID_UTF8 = [
  [0xff, 0xfe],
  [0xc3, 0x28],
  [0xed, 0xa0, 0x80],
  [0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d],
  [0xef, 0xbb, 0xbf, 0x7b, 0x7d],
  [0x00],
  [0xf4, 0x90, 0x80, 0x80],
];

export const junkBodyArb: fc.Arbitrary<Body> = fc.oneof(
  { weight: 3, arbitrary: junkJson.map((value): Body => ({ kind: "json", value })) },
  { weight: 3, arbitrary: fc.constantFrom(...MALFORMED_JSON).map((text): Body => ({ kind: "text", text })) },
  { weight: 1, arbitrary: fc.constantFrom(...INVALID_UTF8).map((bytes): Body => ({ kind: "bytes", bytes })) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 })
      .map((bytes): Body => ({ kind: "bytes", bytes })),
  },
  {
    weight: 1,
    arbitrary: fc.string({ unit: "binary", maxLength: 64 }).map((text): Body => ({ kind: "text", text })),
  },
  {
    weight: 1,
    arbitrary: junkJson.map((value): Body => ({ kind: "stream", text: JSON.stringify(value) ?? "" })),
  },
);

/** Path parameter values: seeded resources, random ids and junk. */
function pathParamArb(param: FuzzParam, refsFor: (name: string) => Ref[]): fc.Arbitrary<UrlValue> {
  const refs = refsFor(param.name);
  const isUuid = typeof param.schema.pattern === "string" && param.schema.pattern.includes("0-9a-f");
  const valid: fc.Arbitrary<UrlValue> = isUuid
    ? fc.oneof(
        fc.uuid(),
        fc.uuid().map((u) => u.toUpperCase()),
      )
    : fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/, { size: "xsmall" });
  const rawJunk = fc.constantFrom<UrlValue>(
    { raw: "%" },
    { raw: "%zz" },
    { raw: "%ED%A0%80" },
    { raw: "%C3%28" },
    { raw: "%00" },
    { raw: "%2F" },
    { raw: "a%2Fb" },
    { raw: "%2e%2e" },
    { raw: ".." },
    { raw: "." },
    { raw: "%25" },
    { raw: "%20" },
    { raw: "+" },
    { raw: "%u0041" },
    { raw: ";x=1" },
    { raw: "@" },
    { raw: "default" },
  );
  return fc.oneof(
    ...(refs.length ? [{ weight: 25, arbitrary: fc.constantFrom<UrlValue>(...refs) }] : []),
    { weight: 10, arbitrary: valid },
    { weight: 10, arbitrary: fc.constantFrom<UrlValue>(...UUID_JUNK) },
    { weight: 10, arbitrary: nastyString },
    { weight: 5, arbitrary: rawJunk },
    { weight: 1, arbitrary: hugeString.map((s) => s.slice(0, 20_000)) },
  );
}

const PAGING_VALUES = [
  "1",
  "2",
  "0",
  "-1",
  "1000000000",
  "1000000001",
  "99999999999",
  "9999999999",
  "100",
  "101",
  "1.5",
  "1e2",
  "abc",
  "",
  " 1",
  "0000000001",
  "00000000001",
  "+1",
  "0x1",
  "١",
  "%",
];

/** A query value for a documented parameter: valid-ish, junk, SQL metacharacters. */
function queryValueArb(
  param: FuzzParam,
  op: FuzzOperation,
  refsFor: (name: string) => Ref[],
): fc.Arbitrary<UrlValue> {
  const s = param.schema;
  let valid: fc.Arbitrary<UrlValue>;
  if (param.name === "page" || param.name === "page_size")
    valid = fc.oneof(fc.integer({ min: 1, max: 120 }).map(String), fc.constantFrom(...PAGING_VALUES));
  else if (param.name === "order_by")
    valid = fc.oneof(
      op.sortable.length
        ? fc.subarray(op.sortable, { minLength: 1 }).map((a) => a.join(","))
        : fc.constant("inserted_at"),
      fc.constantFrom(
        "",
        ",",
        "inserted_at,",
        " inserted_at ",
        "INSERTED_AT",
        "id",
        "rowid",
        "1",
        "inserted_at DESC",
        "(SELECT 1)",
        "name;--",
      ),
    );
  else if (param.name === "order_directions")
    valid = fc.oneof(
      fc
        .array(fc.constantFrom("asc", "desc", "ASC", "Desc"), { minLength: 1, maxLength: 4 })
        .map((a) => a.join(",")),
      fc.constantFrom("", ",", "up", "asc desc", "asc;--", "asc,asc,asc,asc,asc,asc"),
    );
  else if (Array.isArray(s.enum)) valid = fc.constantFrom(...(s.enum as string[]));
  else if (s.type === "integer")
    valid = fc.oneof(fc.integer({ min: -5, max: 1000 }).map(String), fc.constantFrom(...NUMERIC_STRINGS));
  else if (s.type === "boolean") valid = fc.constantFrom(...BOOL_STRINGS);
  else if (s.format === "date-time") valid = fc.constantFrom(...DATE_STRINGS);
  else {
    const refs = refsFor(param.name);
    valid = fc.oneof(
      ...(refs.length ? [fc.constantFrom<UrlValue>(...refs)] : []),
      fc.constantFrom("fuzz*", "*main", "*", "f*z*", "?uzz*", "FUZZ*", "fuzz-main", "*-*"),
      fc.uuid(),
    );
  }
  return fc.oneof(
    { weight: 50, arbitrary: valid },
    { weight: 30, arbitrary: fc.constantFrom(...SQL_META) },
    { weight: 20, arbitrary: nastyString },
    {
      weight: 10,
      arbitrary: fc.constantFrom<UrlValue>(
        { raw: "%" },
        { raw: "%ED%A0%80" },
        { raw: "a+b" },
        { raw: "%00" },
        { raw: "a&b" },
        { raw: "=" },
        { raw: "%FF" },
      ),
    },
    { weight: 2, arbitrary: fc.constantFrom(511, 512, 513, 4096, 4097, 100_000).map((n) => "*".repeat(n)) },
    { weight: 1, arbitrary: hugeString },
  );
}

export function queryArb(
  op: FuzzOperation,
  refsFor: (name: string) => Ref[],
): fc.Arbitrary<[UrlValue, UrlValue][]> {
  const unknownKey = fc.oneof(
    fc.constantFrom(
      "foo",
      "NAME",
      "name[]",
      "name.x",
      "",
      "__proto__",
      "limit",
      "offset",
      "sort",
      "per_page",
      "page[size]",
      "id",
      "q",
      "%",
      "name__like",
      "name__gte",
    ),
    nastyString,
  );
  if (op.query.length === 0) {
    return fc.oneof(
      { weight: 8, arbitrary: fc.constant<[UrlValue, UrlValue][]>([]) },
      {
        weight: 2,
        arbitrary: fc.array(
          fc.tuple(unknownKey as fc.Arbitrary<UrlValue>, nastyString as fc.Arbitrary<UrlValue>),
          { minLength: 1, maxLength: 3 },
        ),
      },
    );
  }
  const known = fc
    .constantFrom(...op.query)
    .chain((p) => queryValueArb(p, op, refsFor).map((v): [UrlValue, UrlValue] => [p.name, v]));
  const entry = fc.oneof(
    { weight: 8, arbitrary: known },
    {
      weight: 1,
      arbitrary: fc.tuple(unknownKey as fc.Arbitrary<UrlValue>, nastyString as fc.Arbitrary<UrlValue>),
    },
  );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<[UrlValue, UrlValue][]>([]) },
    { weight: 8, arbitrary: fc.array(entry, { minLength: 1, maxLength: 5 }) },
    // repeated parameter
    { weight: 1, arbitrary: known.map((e): [UrlValue, UrlValue][] => [e, e]) },
  );
}

function bodyArbFor(op: FuzzOperation, hints: Hints): fc.Arbitrary<Body | null> {
  if (!op.body) {
    return fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: junkBodyArb });
  }
  const valid = fromSchema(op.body, hints);
  return fc.oneof(
    { weight: 40, arbitrary: valid.map((value): Body => ({ kind: "json", value })) },
    { weight: 50, arbitrary: valid.chain(mutate).map((value): Body => ({ kind: "json", value })) },
    { weight: 20, arbitrary: junkBodyArb },
    { weight: 3, arbitrary: fc.constant<Body | null>(null) },
    { weight: 3, arbitrary: fc.constant<Body>({ kind: "text", text: "" }) },
  );
}

const OTHER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "patch", "PROPFIND"];

/** A schema-guided request for one operation (mostly its own method and a JSON body; mutated often). */
export function requestArb(
  op: FuzzOperation,
  hints: Hints,
  refsFor: (name: string) => Ref[],
): fc.Arbitrary<FuzzRequest> {
  const params: Record<string, fc.Arbitrary<UrlValue>> = {};
  for (const p of op.pathParams) params[p.name] = pathParamArb(p, refsFor);
  return fc.record({
    method: fc.oneof(
      { weight: 19, arbitrary: fc.constant(op.method) },
      { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) },
    ),
    path: fc.constant(op.path),
    params: fc.record(params),
    query: queryArb(op, refsFor),
    auth: op.public
      ? fc.oneof(
          { weight: 8, arbitrary: fc.constant<Auth>({ kind: "none" }) },
          { weight: 2, arbitrary: authArb },
        )
      : authArb,
    contentType: op.body
      ? contentTypeArb
      : fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: contentTypeArb }),
    body: bodyArbFor(op, hints),
    requestId: requestIdArb,
    extraHeaders: extraHeadersArb,
  });
}

const EXTRA_PATHS = [
  "/",
  "//",
  "/api",
  "/api/v1",
  "/api/v1/",
  "/api/v2/clusters",
  "/API/V1/CLUSTERS",
  "/api/v1/clusters/",
  "/api/v1/clusters//enrollment_keys",
  "/api/v1/clusters/../nodes",
  "/api/v1/%2e%2e/nodes",
  "/api/v1/clusters/%2e%2e%2fnodes",
  "/api/v1/openapi.json",
  "/api/v1/asyncapi.json",
  "/asyncdoc",
  "/swaggerui",
  "/install.sh",
  "/agent/v1/releases/latest/outpost-agent.mjs",
  "/agent/v1/connect",
  "/agent/v1/enroll/",
  "/health/",
  "/api/v1/webhooks/{id}",
  "/api/v1/nodes/{id}/metrics/other",
  "/api/v1/clusters/{name}/nodes",
  "/favicon.ico",
  "/.env",
  "/api/v1/clusters;x=1",
  "/api/v1/clusters%00",
  `/api/v1/${"a".repeat(20_000)}`,
];

/** Pure junk: any method, any (documented or not) path, junk everything. */
export function junkRequestArb(
  ops: FuzzOperation[],
  refsFor: (name: string) => Ref[],
): fc.Arbitrary<FuzzRequest> {
  const paths = [...new Set([...ops.map((o) => o.path), ...EXTRA_PATHS])];
  const anyParam = fc.oneof(
    {
      weight: 2,
      arbitrary: fc.constantFrom<UrlValue>(...refsFor("id"), ...refsFor("name")),
    },
    { weight: 3, arbitrary: nastyString as fc.Arbitrary<UrlValue> },
    { weight: 1, arbitrary: fc.uuid() as fc.Arbitrary<UrlValue> },
  );
  const connectHeaders = fc.constantFrom<[string, string][]>(
    [],
    [["upgrade", "websocket"]],
    [
      ["upgrade", "WebSocket"],
      ["connection", "Upgrade"],
    ],
    [["upgrade", "h2c"]],
    [
      ["upgrade", "websocket"],
      ["sec-websocket-key", "x"],
    ],
  );
  return fc.record({
    method: fc.constantFrom(...OTHER_METHODS),
    path: fc.constantFrom(...paths),
    params: fc
      .dictionary(fc.constantFrom("id", "name", "node_id", "cluster_name", "delivery_id"), anyParam)
      .map((d) => ({
        id: ref("nodeId"),
        name: ref("clusterName"),
        node_id: ref("nodeId"),
        cluster_name: ref("clusterName"),
        delivery_id: ref("deliveryId"),
        ...d,
      })),
    query: fc.oneof(
      { weight: 2, arbitrary: fc.constant<[UrlValue, UrlValue][]>([]) },
      {
        weight: 1,
        arbitrary: fc.array(
          fc.tuple(nastyString as fc.Arbitrary<UrlValue>, nastyString as fc.Arbitrary<UrlValue>),
          { maxLength: 4 },
        ),
      },
    ),
    auth: authArb,
    contentType: fc.oneof(contentTypeArb, fc.constantFrom(...WRONG_TYPES)),
    body: fc.option(junkBodyArb, { freq: 2 }),
    requestId: requestIdArb,
    extraHeaders: fc.oneof(extraHeadersArb, connectHeaders),
  });
}

export { deepValue, UNICODE };

// ---------------------------------------------------------------- checking

export interface Outcome {
  built: Built;
  status: number;
  headers: Headers;
  text: string | null;
  ms: number;
}

export interface CheckContext {
  ops: FuzzOperation[];
  /** Sent x-request-id, when any. */
  requestId: string | null;
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * 503s that are not about the database: a node that has not reported metrics yet, and a live
 * operation on a node whose agent is not connected (SEED-MAP: `details{node_status, last_seen_at}`):
 * an inventory refresh, or a power, service or container action.
 */
export function isDocumentedDownstream503(o: Outcome, body: any): boolean {
  if (o.status !== 503) return false;
  const metrics =
    /^\/api\/v1\/nodes\/[^/]+\/metrics(\/host|\/agent|\/system|\/export)?(\?|$)/.test(o.built.url) &&
    body?.error?.message === "This node has not reported metrics yet";
  const agentOffline =
    // Live operations (inventory refresh, metrics stream, actions; processes, logs and files) reach the agent.
    /^\/api\/v1\/nodes\/[^/]+\/(inventory\/refresh|metrics\/stream|power_actions|services\/[^/]+\/actions|containers\/[^/]+\/actions|processes(\/[^/?]+(\/signal)?)?|logs(\/stream)?|files)(\?|$)/.test(
      o.built.url,
    ) &&
    body?.error?.message === "The node's agent is not connected" &&
    Array.isArray(body?.error?.details?.node_status);
  const fleetOffline =
    /^\/api\/v1\/power_actions(\?|$)/.test(o.built.url) &&
    body?.error?.message === "The agents of some targeted nodes are not connected" &&
    Array.isArray(body?.error?.details?.node_status);
  return metrics || agentOffline || fleetOffline;
}

// The operation the router picks among matching templates: the one with the fewest parameters.
function mostSpecific(ops: FuzzOperation[]): FuzzOperation | undefined {
  return [...ops].sort((a, b) => a.pathParams.length - b.pathParams.length)[0];
}

/** The response invariants; returns the violations (empty when all hold). */
export function checkOutcome(o: Outcome, ctx: CheckContext): string[] {
  const problems: string[] = [];
  const rid = o.headers.get("x-request-id");
  let body: any;
  let parsed = false;
  if (o.text !== null && o.text !== "") {
    try {
      body = JSON.parse(o.text);
      parsed = true;
    } catch {
      // not JSON
    }
  }
  if (o.status >= 500 && !isDocumentedDownstream503(o, body)) problems.push(`server error ${o.status}`);
  if (!rid) problems.push("no x-request-id header");
  if (ctx.requestId !== null && SANE_REQUEST_ID.test(ctx.requestId) && rid !== ctx.requestId)
    problems.push(`sane x-request-id ${ctx.requestId} not echoed (got ${rid})`);
  if (ctx.requestId !== null && !SANE_REQUEST_ID.test(ctx.requestId) && rid === ctx.requestId)
    problems.push(`insane x-request-id ${JSON.stringify(ctx.requestId)} echoed`);

  if (o.status >= 400) {
    if (!/^application\/json/i.test(o.headers.get("content-type") ?? ""))
      problems.push(`error content-type ${o.headers.get("content-type")}`);
    if (!parsed) problems.push("error body is not JSON");
    else {
      const keys = body && typeof body === "object" ? Object.keys(body).sort().join(",") : typeof body;
      if (keys !== "error,meta") problems.push(`error body keys: ${keys}`);
      const e = body?.error;
      const ekeys = e && typeof e === "object" ? Object.keys(e).sort().join(",") : typeof e;
      if (ekeys !== "code,details,message") problems.push(`error object keys: ${ekeys}`);
      if (typeof e?.code !== "string" || !(e.code in ERROR_STATUS))
        problems.push(`unknown error code ${JSON.stringify(e?.code)}`);
      else if (ERROR_STATUS[e.code as keyof typeof ERROR_STATUS] !== o.status)
        problems.push(
          `code ${e.code} leaves with ${o.status}, expected ${ERROR_STATUS[e.code as keyof typeof ERROR_STATUS]}`,
        );
      if (typeof e?.message !== "string" || e.message.length === 0)
        problems.push("error.message is not a non-empty string");
      const d = e?.details;
      if (
        d !== null &&
        !(
          d &&
          typeof d === "object" &&
          !Array.isArray(d) &&
          Object.values(d).every((v) => Array.isArray(v) && v.every((m) => typeof m === "string"))
        )
      )
        problems.push(`error.details is not null or {field: [string]}: ${clip(JSON.stringify(d), 200)}`);
      const mkeys =
        body?.meta && typeof body.meta === "object"
          ? Object.keys(body.meta).sort().join(",")
          : typeof body?.meta;
      if (mkeys !== "request_id,timestamp") problems.push(`meta keys: ${mkeys}`);
      if (body?.meta?.request_id !== rid)
        problems.push(`meta.request_id ${body?.meta?.request_id} != x-request-id ${rid}`);
      if (!ISO.test(String(body?.meta?.timestamp))) problems.push(`meta.timestamp ${body?.meta?.timestamp}`);
    }
  } else if (o.status >= 200 && o.status < 300 && o.text !== null && o.status !== 204) {
    const isApi = o.built.url.startsWith("/api/v1/") && !/\/(openapi|asyncapi)\.json/.test(o.built.url);
    if (isApi || o.built.url.startsWith("/agent/v1/enroll") || o.built.url.startsWith("/health")) {
      // A documented download (text/csv, application/x-ndjson) is checked against the document below.
      const json = /^application\/json/i.test(o.headers.get("content-type") ?? "");
      if (!parsed && json) problems.push("success body is not JSON");
      // Its shape is checked against the documented schema below; a bare body (host metrics) has no meta.
      else if (body?.meta !== undefined && body.meta?.request_id !== rid)
        problems.push(`meta.request_id ${body?.meta?.request_id} != x-request-id ${rid}`);
    }
  }

  // Documented statuses and authentication first: only when the request reached a documented route.
  const matched = matchingOperations(ctx.ops, o.built.method, o.built.url);
  const noRoute =
    o.status === 404 &&
    typeof body?.error?.message === "string" &&
    body.error.message.startsWith("No route for");
  // A successful body must be what the document says for its operation and status.
  const reached = mostSpecific(matched);
  if (reached && o.status >= 200 && o.status < 300) {
    const response = reached.responses[String(o.status)];
    if (response) {
      const text = o.status === 204 ? null : o.text;
      for (const p of contentProblems(response.content, o.headers.get("content-type"), text))
        problems.push(`${reached.id} ${o.status}: ${p}`);
    }
  }
  if (matched.length > 0 && !noRoute && o.status !== 405) {
    const documented = new Set(matched.flatMap((m) => [...m.statuses]));
    if (!documented.has(o.status) && !(o.status === 503 && isDocumentedDownstream503(o, body)))
      problems.push(
        `status ${o.status} is not documented for ${matched.map((m) => m.id).join(" | ")} (documented: ${[...documented].join(",")})`,
      );
    if (matched.every((m) => !m.public) && !o.built.authValid && o.status !== 401)
      problems.push(`guarded operation answered ${o.status} without a valid API key (expected 401)`);
    if (matched.every((m) => !m.public) && o.built.authValid && o.status === 401)
      problems.push("valid API key refused with 401");
  }
  return problems;
}
