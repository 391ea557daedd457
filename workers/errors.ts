import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { isDatabaseBusy, isDatabaseUnavailable } from "../src/db/errors";
import { redactedStack } from "../src/db/redact";
import { ApiError, ERROR_STATUS, type ErrorCode } from "../src/errors";
import { createLogger, type Logger } from "../src/log";
import { responseMeta } from "./middleware/request-context";

// The error type and codes live in src/ (stores throw them); re-exported so Worker code has one import.
export { ApiError, ERROR_STATUS, type ErrorCode, type ErrorDetails, issuesToDetails } from "../src/errors";

/** Renders an error in the envelope `{error: {code, message, details}, meta}`. */
export function errorResponse(c: Context, error: ApiError): Response {
  const body = {
    error: { code: error.code, message: error.message, details: error.details },
    meta: responseMeta(c),
  };
  return c.json(body, error.status as 400);
}

function codeForStatus(status: number): ErrorCode | undefined {
  for (const [code, known] of Object.entries(ERROR_STATUS)) if (known === status) return code as ErrorCode;
  return undefined;
}

// A status we have no code for is a bug or a surprise from Hono, not the client's fault: 500, not 400.
function fromHttpException(err: HTTPException): ApiError {
  const code = codeForStatus(err.status);
  return code ? new ApiError(code, err.message || undefined) : new ApiError("internal_error");
}

/** Hono `onError`: known errors keep their code, database outages become 503, the rest 500 (logged). */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return errorResponse(c, err);
  if (err instanceof HTTPException) return errorResponse(c, fromHttpException(err));
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
