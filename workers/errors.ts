import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type * as v from "valibot";
import { ConfigError } from "../src/config";
import { isDatabaseBusy } from "../src/db/errors";
import { redactedStack } from "../src/db/redact";
import { createLogger, type Logger } from "../src/log";
import { responseMeta } from "./middleware/request-context";

/** Error codes of the REST contract and the HTTP status each one leaves with. */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  internal_error: 500,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Per-field messages, e.g. `{ name: ["can't be blank"] }`. */
export type ErrorDetails = Record<string, string[]>;

const DEFAULT_MESSAGES: Record<ErrorCode, string> = {
  bad_request: "Invalid request parameters",
  unauthorized: "Missing or invalid API key",
  forbidden: "Insufficient permissions",
  not_found: "Resource not found",
  method_not_allowed: "Method not allowed",
  conflict: "Resource already exists",
  payload_too_large: "Request body too large",
  unsupported_media_type: "Content-Type must be application/json",
  validation_failed: "Validation failed",
  internal_error: "Internal server error",
  service_unavailable: "Downstream dependency unreachable",
};

/**
 * The one error type handlers throw; `onError` renders it in the contract's envelope.
 * @example throw new ApiError("not_found", "Cluster not found")
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | null;

  constructor(code: ErrorCode, message?: string, details?: ErrorDetails | null) {
    super(message ?? DEFAULT_MESSAGES[code]);
    this.code = code;
    this.details = details ?? null;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** Renders an error in the envelope `{error: {code, message, details}, meta}`. */
export function errorResponse(c: Context, error: ApiError): Response {
  const body = {
    error: { code: error.code, message: error.message, details: error.details },
    meta: responseMeta(c),
  };
  return c.json(body, error.status as 400);
}

/** Hono `onError`: known errors keep their code, database outages become 503, the rest 500 (logged). */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return errorResponse(c, err);
  if (err instanceof HTTPException) {
    const code = (Object.entries(ERROR_STATUS).find(([, s]) => s === err.status)?.[0] ??
      "bad_request") as ErrorCode;
    return errorResponse(c, new ApiError(code, err.message || undefined));
  }
  if (err instanceof ConfigError) {
    // The message names the setting, never its value; every request fails the same way until it is fixed.
    requestLog(c).error("bad environment", { error: err.message });
    return errorResponse(c, new ApiError("internal_error", `Server misconfigured: ${err.message}`));
  }
  if (isDatabaseBusy(err)) {
    // Another writer held the lock too long; nothing was written. Clients retry (the agent does on 5xx).
    c.header("retry-after", "1");
    return errorResponse(c, new ApiError("service_unavailable", "The database is busy; retry shortly"));
  }
  if (isDatabaseUnavailable(err)) {
    requestLog(c).error("database unavailable", { error: err });
    return errorResponse(c, new ApiError("service_unavailable", "Database unreachable"));
  }
  requestLog(c).error("unhandled error", { error: err, stack: redactedStack(err) });
  return errorResponse(c, new ApiError("internal_error"));
}

/** The request's logger; one of our own when the error came before `requestContext` set it. */
function requestLog(c: Context): Logger {
  return (c.get("log") as Logger | undefined) ?? createLogger({ fields: { request_id: c.get("requestId") } });
}

/** Network-level failures of the libSQL client (as opposed to SQL errors, which carry a SQLite code). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  let current: any = err;
  while (current && !seen.has(current)) {
    seen.add(current);
    const code = String(current.code ?? "");
    const text = `${current.name ?? ""} ${current.message ?? ""}`;
    if (code === "SERVER_ERROR" || code === "HRANA_WEBSOCKET_ERROR" || code === "DATABASE_UNAVAILABLE")
      return true;
    if (
      /fetch failed|network connection lost|ECONNREFUSED|connect|Server returned HTTP status 5\d\d/i.test(
        text,
      ) &&
      !code.startsWith("SQLITE")
    ) {
      return true;
    }
    current = current.cause;
  }
  return false;
}

/** Turns valibot issues into `{field: [messages]}` keyed by dotted path. */
export function issuesToDetails(issues: readonly v.BaseIssue<unknown>[]): ErrorDetails {
  // No prototype: a body key named `__proto__` or `constructor` must be just another field.
  const details: ErrorDetails = Object.create(null);
  for (const issue of issues) {
    const key = issue.path?.map((p) => String(p.key)).join(".") || "body";
    details[key] ??= [];
    if (!details[key].includes(issue.message)) details[key].push(issue.message);
  }
  return details;
}
