/**
 * The fuzzer's view of the OpenAPI document: one entry per operation with its
 * path and query parameters, request body schema, security and documented statuses.
 */

import { precompileResponses, type ResponseContent } from "../response-schemas";

export type JsonSchema = Record<string, any>;

export interface FuzzParam {
  name: string;
  schema: JsonSchema;
  description: string;
}

export interface FuzzOperation {
  /** `get /api/v1/clusters/{name}` */
  id: string;
  method: string;
  path: string;
  public: boolean;
  pathParams: FuzzParam[];
  query: FuzzParam[];
  body: JsonSchema | null;
  /** Statuses the document lists for this operation. */
  statuses: Set<number>;
  /** The documented responses by status (their `content`, for checking successful bodies). */
  responses: Record<string, { content?: ResponseContent }>;
  /** Opens a Server-Sent Events stream on success: never read its body. */
  streaming: boolean;
  /** Sortable fields, read from the `order_by` description. */
  sortable: string[];
}

export function operationsFrom(doc: any): FuzzOperation[] {
  const ops: FuzzOperation[] = [];
  for (const [path, methods] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(methods)) {
      const params: any[] = op.parameters ?? [];
      const orderBy = params.find((p) => p.name === "order_by");
      precompileResponses(op.responses ?? {});
      ops.push({
        id: `${method} ${path}`,
        method: method.toUpperCase(),
        path,
        public: Array.isArray(op.security) && op.security.length === 0,
        pathParams: params
          .filter((p) => p.in === "path")
          .map((p) => ({ name: p.name, schema: p.schema ?? {}, description: p.description ?? "" })),
        query: params
          .filter((p) => p.in === "query")
          .map((p) => ({ name: p.name, schema: p.schema ?? {}, description: p.description ?? "" })),
        body: op.requestBody?.content?.["application/json"]?.schema ?? null,
        statuses: new Set(Object.keys(op.responses ?? {}).map(Number)),
        responses: op.responses ?? {},
        streaming: path.endsWith("/stream"),
        sortable: orderBy
          ? String(orderBy.description)
              .replace(/^[^:]*:\s*/, "")
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean)
          : [],
      });
    }
  }
  return ops;
}

function templateRegex(path: string): RegExp {
  const escaped = path
    .split(/\{\w+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("[^/]+");
  return new RegExp(`^${escaped}$`);
}

const regexCache = new Map<string, RegExp>();

/** Operations whose template matches a concrete (still percent-encoded) path and method. */
export function matchingOperations(ops: FuzzOperation[], method: string, path: string): FuzzOperation[] {
  const pathname = path.split("?")[0];
  return ops.filter((op) => {
    if (op.method !== method) return false;
    let re = regexCache.get(op.path);
    if (!re) {
      re = templateRegex(op.path);
      regexCache.set(op.path, re);
    }
    return re.test(pathname);
  });
}
