import type { Hono } from "hono";
import * as v from "valibot";
import { isDatabaseBusy, isDatabaseUnavailable } from "../../src/db/errors";
import { ApiError, issuesToDetails } from "../../src/errors";
import { type ListQuery, ListQueryError, parseListQuery } from "../../src/list-query/engine";
import { auditRequest } from "../audit/request-audit";
import { rideAlong, ridesAlong } from "../audit/ride-along";
import { authorize } from "../middleware/authorize";
import { applyClusterScope, refuseFleetWide } from "../middleware/cluster-scope";
import { forgetPrincipals } from "../middleware/principal-cache";
import { type AppContext, type AppEnv, responseMeta } from "../middleware/request-context";
import { readBodyText } from "./read-body";
import { type OperationSpec, registerOperation } from "./registry";
import type { CursorListResult, DataResult, ListResult, RouteInput, RouteResult } from "./route-types";

// A change here can revoke or narrow a cached principal (a revoked token, a disabled user, a role's
// permissions, a logout): this isolate forgets them all at once, the others within AUTH_CACHE_SECONDS.
const CREDENTIAL_PATHS = /^\/api\/v1\/(users|roles|api_tokens|auth)(\/|$)/;

/** Largest JSON body accepted by any REST operation. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * A route module's handler: its result is typed by the spec (`{data}`, `{data, pagination}`,
 * nothing for 204, its own `Response` only for an event stream), so a presenter that drifts from
 * the documented schema does not compile.
 */
export type RouteHandler<S extends OperationSpec> = (
  c: AppContext,
  input: RouteInput<S>,
) => Promise<RouteResult<S>>;

function honoPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ":$1");
}

async function readJsonBody(c: AppContext, schema: v.GenericSchema): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
    throw new ApiError("unsupported_media_type", "Content-Type must be application/json");
  }
  const text = await readBodyText(c.req.raw, MAX_BODY_BYTES);
  let json: unknown;
  try {
    json = text.trim() === "" ? {} : JSON.parse(text);
  } catch (err) {
    throw new ApiError("bad_request", "Malformed JSON body", { body: [(err as Error).message] });
  }
  const result = v.safeParse(schema, json);
  if (!result.success)
    throw new ApiError("validation_failed", "Validation failed", issuesToDetails(result.issues));
  return result.output;
}

function parseParams(c: AppContext, spec: OperationSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, param] of Object.entries(spec.params ?? {})) {
    const result = v.safeParse(param.schema, c.req.param(name));
    if (!result.success) {
      throw new ApiError("bad_request", `Invalid path parameter "${name}"`, {
        [name]: result.issues.map((i) => i.message),
      });
    }
    out[name] = result.output;
  }
  return out;
}

async function parseQuery(c: AppContext, spec: OperationSpec): Promise<ListQuery | undefined> {
  const search = new URL(c.req.url).searchParams;
  // An SSE operation's `?token=` is its credential (checked by authorize), not a query parameter.
  if (spec.success.eventStream) search.delete("token");
  if (spec.list) {
    // A list operation may declare its own parameters too (an export's `format`): parsed apart.
    for (const name of Object.keys(spec.query ?? {})) search.delete(name);
    try {
      return await parseListQuery(search, spec.list);
    } catch (err) {
      if (err instanceof ListQueryError)
        throw new ApiError("bad_request", "Invalid request parameters", err.details);
      throw err;
    }
  }
  const declared = spec.query ?? {};
  const unknown = [...search.keys()].filter((key) => !Object.hasOwn(declared, key));
  if (unknown.length > 0) {
    const details: Record<string, string[]> = Object.create(null);
    for (const key of unknown)
      details[key] = [
        spec.query
          ? `unknown parameter; this operation takes ${Object.keys(declared).join(", ")}`
          : "unknown parameter; this operation takes no query parameters",
      ];
    throw new ApiError("bad_request", "Invalid request parameters", details);
  }
  return undefined;
}

// Declared query parameters of a non-list operation: each optional, parsed by its schema (400).
function parseQueryParams(c: AppContext, spec: OperationSpec): Record<string, unknown> {
  const search = new URL(c.req.url).searchParams;
  const out: Record<string, unknown> = {};
  const details: Record<string, string[]> = Object.create(null);
  for (const [name, param] of Object.entries(spec.query ?? {})) {
    const values = search.getAll(name);
    if (values.length === 0) {
      // Absent: a schema that takes `undefined` may supply its default; one that doesn't leaves it out.
      const absent = v.safeParse(param.schema, undefined);
      if (absent.success && absent.output !== undefined) out[name] = absent.output;
      continue;
    }
    if (values.length > 1) {
      details[name] = ["must be given once"];
      continue;
    }
    const result = v.safeParse(param.schema, values[0]);
    if (result.success) out[name] = result.output;
    else details[name] = result.issues.map((i) => i.message);
  }
  if (Object.keys(details).length > 0)
    throw new ApiError("bad_request", "Invalid request parameters", details);
  return out;
}

function dataOf(result: unknown): unknown {
  return result && typeof result === "object" && "data" in result ? result.data : undefined;
}

// The handler's result as it leaves: the envelope (or the bare data) with the spec's status.
function toResponse(c: AppContext, spec: OperationSpec, result: unknown): Response {
  if (result instanceof Response) return result;
  const { success } = spec;
  if (success.data === null) return c.body(null, 204);
  if (success.paginated === "cursor") {
    const { data, pagination, scan_truncated } = result as CursorListResult<unknown>;
    const extra = scan_truncated === undefined ? {} : { scan_truncated };
    return c.json({ data, meta: { ...responseMeta(c), pagination, ...extra } }, 200);
  }
  if (success.paginated) {
    const { data, pagination } = result as ListResult<unknown>;
    return c.json({ data, meta: { ...responseMeta(c), pagination } }, 200);
  }
  const { data, status, meta } = result as Omit<DataResult<unknown>, "status"> & { status?: 202 | 503 };
  const code = status ?? (success.status as 200 | 201 | 202);
  return success.bare
    ? c.json(data as object, code)
    : c.json({ data, meta: { ...responseMeta(c), ...meta } }, code);
}

/**
 * Registers a Hono route and its OpenAPI operation from one spec: path
 * parameters (400), list queries (400) and JSON bodies (415/413/400/422) are
 * validated before the handler runs, and the handler's types come from the same spec.
 * Non-list operations reject query strings they don't know.
 * @example
 * defineRoute(app, { method: "get", path: "/api/v1/clusters/{name}", params: nameParam,
 *   success: { status: 200, description: "The cluster", data: ClusterResponseSchema }, … },
 *   async (c, { params }) => ({ data: await presentCluster(db, await getClusterByName(db, params.name)) }));
 */
export function defineRoute<const S extends OperationSpec>(
  app: Hono<AppEnv>,
  spec: S,
  handler: RouteHandler<S>,
): void {
  registerOperation(spec);
  app.on(spec.method.toUpperCase(), honoPath(spec.path), async (c) => {
    if (!spec.public) await authorize(c, spec);
    let params: Record<string, unknown> = {};
    try {
      refuseFleetWide(c, spec);
      params = parseParams(c, spec);
      const list = await parseQuery(c, spec);
      const body = spec.body ? await readJsonBody(c, spec.body) : undefined;
      await applyClusterScope(c, spec, params, list);
      // The runtime object carries exactly the keys RouteInput<S> declares for this spec.
      const query = spec.query ? parseQueryParams(c, spec) : undefined;
      const input = {
        params,
        ...(spec.list ? { list } : {}),
        ...(spec.body ? { body } : {}),
        ...(spec.query ? { query } : {}),
      } as RouteInput<S>;
      const restore = ridesAlong(spec) ? rideAlong(c, spec, params) : undefined;
      let result: RouteResult<S>;
      try {
        result = await handler(c, input);
      } finally {
        restore?.();
      }
      if (spec.method !== "get" && CREDENTIAL_PATHS.test(spec.path)) forgetPrincipals();
      const response = toResponse(c, spec, result);
      await auditRequest(c, spec, params, { status: response.status, data: dataOf(result) });
      return response;
    } catch (err) {
      // A refused change is audited too (who tried what); an unexpected error as the 500 it becomes.
      const down = isDatabaseUnavailable(err) || isDatabaseBusy(err);
      const status = err instanceof ApiError ? err.status : down ? 503 : 500;
      await auditRequest(c, spec, params, {
        status,
        error: err instanceof Error ? err.message : String(err),
      });
      throw err;
    }
  });
}
