import type { GenericSchema } from "valibot";
import type { ListSpec } from "../../src/list-query/engine";

/** One documented REST operation; route modules declare these and the OpenAPI document is built from them. */
export interface OperationSpec {
  method: "get" | "post" | "patch" | "put" | "delete";
  /** OpenAPI-style path, e.g. `/api/v1/clusters/{name}`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  /** Public operations need no API key (the seed's `security: []`). */
  public?: boolean;
  /** Path parameters: name → schema and description. */
  params?: Record<string, { schema: GenericSchema; description: string }>;
  /** List endpoints: filters, sorting and paging from the field table. */
  list?: ListSpec;
  body?: GenericSchema;
  /** Success status and its data schema; `null` for 204. */
  success: {
    status: 200 | 201 | 202 | 204;
    description: string;
    data: GenericSchema | null;
    paginated?: boolean;
  };
  /** Error statuses this operation can answer with, beyond 400/401/500. */
  errors?: (401 | 403 | 404 | 409 | 413 | 415 | 422 | 503)[];
}

const operations: OperationSpec[] = [];

/** Records an operation for the OpenAPI document and the route-table tests. */
export function registerOperation(spec: OperationSpec): void {
  if (operations.some((o) => o.method === spec.method && o.path === spec.path)) return;
  operations.push(spec);
}

/** Every registered operation, in registration order. */
export function listOperations(): readonly OperationSpec[] {
  return operations;
}
