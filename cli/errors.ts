/** A failure the CLI reports as one message and an exit code, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The contract's error envelope, as far as the CLI reads it. */
interface ErrorEnvelope {
  error?: { code?: string; message?: string; details?: Record<string, unknown> | null };
  meta?: { request_id?: string };
}

/** An API error: the server's message, its field details, the status and the request id. */
export class ApiFailure extends CliError {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly apiMessage: string,
    readonly details: Record<string, unknown> | null | undefined,
    readonly requestId: string | undefined,
  ) {
    super(formatApiFailure(status, code, apiMessage, details, requestId));
  }

  /** Builds one from a response and its parsed (or unparsable) body. */
  static from(response: Response, body: unknown): ApiFailure {
    const envelope = (body && typeof body === "object" ? body : {}) as ErrorEnvelope;
    const message =
      envelope.error?.message ??
      (typeof body === "string" && body ? body.slice(0, 200) : response.statusText);
    return new ApiFailure(
      response.status,
      envelope.error?.code,
      message || `HTTP ${response.status}`,
      envelope.error?.details,
      envelope.meta?.request_id ?? response.headers.get("x-request-id") ?? undefined,
    );
  }
}

function formatApiFailure(
  status: number,
  code: string | undefined,
  message: string,
  details: Record<string, unknown> | null | undefined,
  requestId: string | undefined,
): string {
  const lines = [message];
  for (const [field, value] of Object.entries(details ?? {})) {
    lines.push(`  ${field}: ${Array.isArray(value) ? value.join("; ") : JSON.stringify(value)}`);
  }
  const tail = [`HTTP ${status}`, code, requestId ? `request id ${requestId}` : undefined].filter(Boolean);
  lines.push(`  (${tail.join(", ")})`);
  return lines.join("\n");
}
