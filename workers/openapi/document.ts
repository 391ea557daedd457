import { toJsonSchema } from "@valibot/to-json-schema";
import type * as v from "valibot";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../../src/list-query/engine";
import { CursorMetaSchema, ErrorBodySchema, MetaSchema, PaginatedMetaSchema } from "../../src/schemas/common";
import { OUTPOST_VERSION } from "../../src/version";
import { listOperations, type OperationSpec, type SuccessSpec } from "./registry";

type JsonObject = Record<string, unknown>;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Bad Request: malformed parameters or JSON (details name each field)",
  401: "Unauthorized: missing or invalid API key",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type: send application/json",
  422: "Validation Failed: details map each field to its messages",
  429: "Too Many Requests (code `rate_limited`): retry after the `Retry-After` header's seconds",
  500: "Internal Server Error",
  503: "Service Unavailable: the database is unreachable",
};

function schema(s: v.GenericSchema): JsonObject {
  const json = toJsonSchema(s, {
    target: "draft-2020-12",
    errorMode: "ignore",
    typeMode: "input",
  }) as JsonObject;
  delete json.$schema;
  return json;
}

// A list operation's filters, sorting and paging (its own `query` parameters are listed beside).
function queryParameters(op: OperationSpec): JsonObject[] {
  if (!op.list) return [];
  const params: JsonObject[] = Object.entries(op.list.filters).map(([name, f]) => ({
    name,
    in: "query",
    required: false,
    description: f.description,
    schema: { type: f.type, ...(f.format ? { format: f.format } : {}), ...(f.enum ? { enum: f.enum } : {}) },
  }));
  const sortable = Object.keys(op.list.sortable);
  params.push(
    {
      name: "order_by",
      in: "query",
      description: `Comma-separated fields to sort by: ${sortable.join(", ")}`,
      schema: { type: "string" },
    },
    {
      name: "order_directions",
      in: "query",
      description: "Comma-separated asc/desc, one per order_by field",
      schema: { type: "string" },
    },
    {
      name: "page",
      in: "query",
      description: "Page number (1-indexed)",
      schema: { type: "integer", minimum: 1, default: 1 },
    },
    {
      name: "page_size",
      in: "query",
      description: "Items per page",
      schema: { type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
    },
  );
  return params;
}

// The envelope's meta with an operation's extra keys (both object schemas).
function mergedMeta(base: JsonObject, extra: JsonObject): JsonObject {
  return {
    ...base,
    properties: { ...(base.properties as JsonObject), ...(extra.properties as JsonObject) },
  };
}

// The documented success: no content (204), an event stream, the bare data, or the `{data, meta}` envelope.
function successResponse(success: SuccessSpec): JsonObject {
  if (success.file) {
    const content: JsonObject = {};
    // A JSON download is a JSON document of its own shape; other files are opaque text.
    for (const type of success.file)
      content[type] = { schema: type === "application/json" ? {} : { type: "string" } };
    return { description: success.description, content };
  }
  if (success.data === null) return { description: success.description };
  if (success.eventStream) {
    return {
      description: success.description,
      content: { "text/event-stream": { schema: schema(success.data) } },
    };
  }
  if (success.bare) {
    return {
      description: success.description,
      content: { "application/json": { schema: schema(success.data) } },
    };
  }
  const data = success.paginated ? { type: "array", items: schema(success.data) } : schema(success.data);
  const meta =
    success.paginated === "cursor"
      ? schema(CursorMetaSchema)
      : success.paginated
        ? schema(PaginatedMetaSchema)
        : success.meta
          ? mergedMeta(schema(MetaSchema), schema(success.meta))
          : schema(MetaSchema);
  return {
    description: success.description,
    content: {
      "application/json": {
        schema: { type: "object", required: ["data", "meta"], properties: { data, meta } },
      },
    },
  };
}

function operationObject(op: OperationSpec): JsonObject {
  const parameters = [
    ...Object.entries(op.params ?? {}).map(([name, p]) => ({
      name,
      in: "path",
      required: true,
      description: p.description,
      schema: schema(p.schema),
    })),
    ...Object.entries(op.query ?? {}).map(([name, p]) => ({
      name,
      in: "query",
      required: false,
      description: p.description,
      schema: schema(p.schema),
    })),
    ...queryParameters(op),
  ];
  const responses: JsonObject = { [op.success.status]: successResponse(op.success) };
  if (op.alternative) responses[op.alternative.status] = successResponse(op.alternative);
  // An authenticated operation answers 429 once a client's failed authentications pass their limit.
  const statuses = new Set<number>([400, ...(op.public ? [] : [401, 403, 429]), ...(op.errors ?? []), 500]);
  if (op.body) {
    statuses.add(413);
    statuses.add(415);
    statuses.add(422);
  }
  for (const status of [...statuses].sort()) {
    responses[status] = {
      description: ERROR_DESCRIPTIONS[status],
      content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorResponse" } } },
    };
  }
  return {
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    operationId: `${op.method}_${op.path
      .replace(/^\/api\/v1\//, "")
      .replace(/[{}]/g, "")
      .replace(/[^A-Za-z0-9]+/g, "_")}`,
    security: op.public ? [] : [{ apiKey: [] }],
    // The permission a principal needs (`authenticated`: any principal); absent on public operations.
    ...(op.public ? {} : { "x-permission": op.permission ?? "*" }),
    // How a cluster-scoped token meets the operation: refused (403), narrowed list, or 404 outside.
    ...(op.clusterScope
      ? {
          "x-cluster-scope": op.clusterScope.refuse
            ? "refused"
            : op.clusterScope.list || op.clusterScope.targeting?.list
              ? "narrowed"
              : "resource",
        }
      : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body
      ? { requestBody: { required: true, content: { "application/json": { schema: schema(op.body) } } } }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document, built from the same specs that validate requests. */
export function buildOpenApiDocument(serverUrl?: string): JsonObject {
  const paths: Record<string, JsonObject> = {};
  const tags: string[] = [];
  for (const op of listOperations()) {
    paths[op.path] ??= {};
    paths[op.path][op.method] = operationObject(op);
    if (!tags.includes(op.tag)) tags.push(op.tag);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Outpost API",
      version: OUTPOST_VERSION,
      description:
        "Control plane for fleets of edge machines. Authenticate with `Authorization: Bearer <secret>` (or `X-API-Token: <secret>`): the API_KEY or MASTER_KEY (superuser), a session token from `POST /api/v1/auth/login`, or a scoped API token (`otp_…`). Each operation's `x-permission` names the permission it needs, and `x-cluster-scope` how a cluster-limited token meets it (`refused`: 403; `narrowed`: lists only its clusters; `resource`: 404 outside them); operations with an empty `security` list are public.",
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    tags: tags.map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description: "API_KEY or MASTER_KEY, a session token (`ots_…`) or an API token (`otp_…`)",
        },
      },
      schemas: { ErrorResponse: schema(ErrorBodySchema) },
    },
  };
}
