import type { Hono } from "hono";
import * as v from "valibot";
import { type ListQuery, ListQueryError, parseListQuery } from "../../src/list-query/engine";
import { ApiError, issuesToDetails } from "../errors";
import { checkApiKey } from "../middleware/auth";
import type { AppContext, AppEnv } from "../middleware/request-context";
import { type OperationSpec, registerOperation } from "./registry";

/** Largest JSON body accepted by any REST operation. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface RouteInput {
  params: Record<string, any>;
  body: any;
  list: ListQuery | undefined;
}

type Handler = (c: AppContext, input: RouteInput) => Promise<Response>;

function honoPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ":$1");
}

async function readJsonBody(c: AppContext, schema: v.GenericSchema): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
    throw new ApiError("unsupported_media_type", "Content-Type must be application/json");
  }
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES)
    throw new ApiError("payload_too_large", `Request body exceeds ${MAX_BODY_BYTES} bytes`);
  const text = await c.req.text();
  if (new TextEncoder().encode(text).byteLength > MAX_BODY_BYTES) {
    throw new ApiError("payload_too_large", `Request body exceeds ${MAX_BODY_BYTES} bytes`);
  }
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

/**
 * Registers a Hono route and its OpenAPI operation from one spec: path
 * parameters (400), list queries (400) and JSON bodies (415/413/400/422) are
 * validated before the handler runs. Non-list operations reject query strings they don't know.
 */
export function defineRoute(app: Hono<AppEnv>, spec: OperationSpec, handler: Handler): void {
  registerOperation(spec);
  app.on(spec.method.toUpperCase(), honoPath(spec.path), async (c) => {
    if (!spec.public) await checkApiKey(c);
    const params = parseParams(c, spec);
    let list: ListQuery | undefined;
    const search = new URL(c.req.url).searchParams;
    if (spec.list) {
      try {
        list = await parseListQuery(search, spec.list);
      } catch (err) {
        if (err instanceof ListQueryError)
          throw new ApiError("bad_request", "Invalid request parameters", err.details);
        throw err;
      }
    } else if ([...search.keys()].length > 0) {
      const details: Record<string, string[]> = Object.create(null);
      for (const key of search.keys())
        details[key] = ["unknown parameter; this operation takes no query parameters"];
      throw new ApiError("bad_request", "Invalid request parameters", details);
    }
    const body = spec.body ? await readJsonBody(c, spec.body) : undefined;
    return handler(c, { params, body, list });
  });
}
