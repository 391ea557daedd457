import type { GenericSchema } from "valibot";
import type { ClusterScopeSpec } from "../../src/access/cluster-scope";
import type { RoutePermission } from "../../src/access/permissions";
import type { ListSpec } from "../../src/list-query/engine";

/** A path parameter: its schema (the handler gets its output) and its description. */
export interface ParamSpec {
  schema: GenericSchema<string, unknown>;
  description: string;
}

/**
 * A query parameter of a non-list operation: its schema takes the raw string, or `undefined` when
 * the parameter is absent (wrap it in `v.optional` to give a default), and its description.
 */
export interface QueryParamSpec {
  schema: GenericSchema<string | undefined, unknown>;
  description: string;
}

/**
 * What a successful answer looks like. `data` is the schema of the envelope's `data` (of each item
 * when `paginated`); `null` for 204. `bare` sends the data itself, without `{data, meta}`;
 * `eventStream` documents `text/event-stream` and lets the handler return its own `Response`.
 */
export interface SuccessSpec {
  status: 200 | 201 | 202 | 204;
  description: string;
  data: GenericSchema | null;
  /** `true`: page numbers and totals; `"cursor"`: an opaque cursor, no totals (`CursorMetaSchema`). */
  paginated?: boolean | "cursor";
  bare?: boolean;
  eventStream?: boolean;
  /** Keys of `meta` beyond `request_id` and `timestamp` that this operation may add (an object schema). */
  meta?: GenericSchema;
  /** A download: the handler returns its own `Response` with this media type (e.g. `text/csv`). */
  file?: readonly string[];
}

/** Error statuses an operation can answer with, beyond 400/401/500. */
export type ErrorStatus = 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

/**
 * How an operation is audited. Mutating operations are audited by default, with the event named
 * `<resource>.<verb>` from the path and method, written in the batch of the change it records
 * (`workers/audit/ride-along.ts`); `read: true` audits a read that reveals a secret; `false` leaves
 * it to the handler (which writes its event in its own batch) or skips it. `outsideBatch` says why
 * the change is made outside our database (in a node's session, on the agent): its event follows.
 */
export type AuditSpec =
  | false
  | { event?: string; resourceType?: string; read?: boolean; outsideBatch?: string };

/** One documented REST operation; route modules declare these and the OpenAPI document is built from them. */
export interface OperationSpec {
  readonly method: "get" | "post" | "patch" | "put" | "delete";
  /** OpenAPI-style path, e.g. `/api/v1/clusters/{name}`. */
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  /** Public operations need no API key (the contract's `security: []`). */
  readonly public?: boolean;
  /** Path parameters: name → schema and description. */
  readonly params?: Readonly<Record<string, ParamSpec>>;
  /** List endpoints: filters, sorting and paging from the field table. */
  readonly list?: ListSpec;
  /**
   * Query parameters of a non-list operation: name → schema (of the raw string, or `undefined` when
   * absent, so a schema may supply a default) and description. Unknown names → 400.
   */
  readonly query?: Readonly<Record<string, QueryParamSpec>>;
  readonly body?: GenericSchema;
  readonly success: Readonly<SuccessSpec>;
  /**
   * A second successful answer with its own status and data (enrolment's 202 when the key requires
   * approval); the handler returns `{ data, status }` with that status.
   */
  readonly alternative?: Readonly<{ status: 202; description: string; data: GenericSchema }>;
  readonly errors?: readonly ErrorStatus[];
  /**
   * The permission a caller needs (`<resource>:<action>`), or `authenticated` for any principal.
   * Every non-public operation declares one (the route-table test checks); without it only a
   * superuser (`*`) passes.
   */
  readonly permission?: RoutePermission;
  readonly audit?: AuditSpec;
  /** How a cluster-scoped API token is limited here (lists narrowed, other clusters' resources 404). */
  readonly clusterScope?: ClusterScopeSpec;
}

const operations: OperationSpec[] = [];

/**
 * Records an operation for the OpenAPI document and the route-table tests. A second registration
 * of the same method and path is a wiring bug (two modules claiming one operation), so it throws.
 */
export function registerOperation(spec: OperationSpec): void {
  if (operations.some((o) => o.method === spec.method && o.path === spec.path)) {
    throw new Error(`Operation ${spec.method.toUpperCase()} ${spec.path} is registered twice`);
  }
  operations.push(spec);
}

/** Every registered operation, in registration order. */
export function listOperations(): readonly OperationSpec[] {
  return operations;
}
