import type * as v from "valibot";
import type { ListQuery, Pagination } from "../../src/list-query/engine";
import type { CursorPagination } from "../../src/schemas/common";
import type { OperationSpec } from "./registry";

// The types a handler sees, computed from its spec literal. Keys that the spec does not declare are
// absent, so `list` is there exactly when the operation is a list and `body` exactly when it has one.

/** `{name: output of its schema}` for each path parameter. */
export type ParamsOf<S extends OperationSpec> =
  S["params"] extends Readonly<Record<string, { schema: v.GenericSchema }>>
    ? { [K in keyof S["params"]]: v.InferOutput<S["params"][K]["schema"]> }
    : Record<string, never>;

// A schema that takes `undefined` is run for an absent parameter (its default applies), so its
// output is what the handler sees; any other schema's parameter is simply absent when not sent.
type QueryValue<T extends v.GenericSchema> =
  | v.InferOutput<T>
  | (undefined extends v.InferInput<T> ? never : undefined);

/** `{name: parsed value}` for each declared query parameter (`undefined` when absent without a default). */
export type QueryOf<S extends OperationSpec> =
  S["query"] extends Readonly<Record<string, { schema: v.GenericSchema }>>
    ? { [K in keyof S["query"]]: QueryValue<S["query"][K]["schema"]> }
    : Record<string, never>;

type QueryInput<S extends OperationSpec> = S["query"] extends object ? { query: QueryOf<S> } : unknown;

type ListInput<S extends OperationSpec> = S["list"] extends object ? { list: ListQuery } : unknown;

type BodyInput<S extends OperationSpec> = S["body"] extends v.GenericSchema
  ? { body: v.InferOutput<S["body"]> }
  : unknown;

/** What `defineRoute` hands the handler: parsed path params, and the list query and body when declared. */
export type RouteInput<S extends OperationSpec> = { params: ParamsOf<S> } & ListInput<S> &
  BodyInput<S> &
  QueryInput<S>;

/** The documented `data` of a successful answer (one item of it for a paginated list). */
export type SuccessData<S extends OperationSpec> = S["success"]["data"] extends v.GenericSchema
  ? v.InferOutput<S["success"]["data"]>
  : never;

/** A page of a list: its items and the pagination block that goes into `meta`. */
export interface ListResult<T> {
  data: T[];
  pagination: Pagination;
}

/** A page of a cursor-paged list (no totals), and whether a scan budget cut it short. */
export interface CursorListResult<T> {
  data: T[];
  pagination: CursorPagination;
  scan_truncated?: boolean;
}

/**
 * One answer with data. `status` overrides the spec's success status for the rare answer that
 * carries data under another status (health's 503).
 */
export interface DataResult<T> {
  data: T;
  status?: 503;
  /** Extra `meta` keys, documented by the spec's `success.meta` (a synchronous command's `complete`). */
  meta?: Record<string, unknown>;
}

/**
 * What a handler returns, by spec: its own `Response` for an event stream, nothing for 204,
 * `{data, pagination}` for a paginated list, else `{data}`. `defineRoute` builds the envelope.
 */
export type RouteResult<S extends OperationSpec> = S["success"]["eventStream"] extends true
  ? Response
  : S["success"]["file"] extends readonly string[]
    ? Response
    : S["success"]["data"] extends null
      ? // biome-ignore lint/suspicious/noConfusingVoidType: a 204 handler just returns; its body is Promise<void>.
        void
      : S["success"]["paginated"] extends "cursor"
        ? CursorListResult<SuccessData<S>>
        : S["success"]["paginated"] extends true
          ? ListResult<SuccessData<S>>
          : DataResult<SuccessData<S>> | AlternativeResult<S>;

/** The operation's second successful answer, when it declares one: its data with its status. */
type AlternativeResult<S extends OperationSpec> = S["alternative"] extends {
  status: infer Status;
  data: infer D extends v.GenericSchema;
}
  ? { data: v.InferOutput<D>; status: Status }
  : never;
