import type * as v from "valibot";

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
