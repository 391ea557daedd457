import type { Hono } from "hono";
import { issueStreamToken } from "../../src/access/stream-token";
import { ApiError } from "../../src/errors";
import { StreamTokenRequest, StreamTokenResponseSchema } from "../../src/stream-tokens/schema";
import { isoSeconds } from "../../src/time";
import { principalOf, requirePermission } from "../middleware/authorize";
import type { AppEnv } from "../middleware/request-context";
import { defineRoute } from "../openapi/define-route";
import { findStreamOperation } from "../openapi/stream-operations";

/** Registers `POST /api/v1/stream_tokens`: browser `EventSource`s cannot send headers, so they get these. */
export function registerStreamTokenRoutes(app: Hono<AppEnv>): void {
  defineRoute(
    app,
    {
      method: "post",
      path: "/api/v1/stream_tokens",
      tag: "Access.StreamToken",
      summary: "Create a stream token",
      description:
        "A token for one Server-Sent Events path, valid 60 seconds, bound to the caller: open `<path>?token=<token>`. SSE routes accept `?token=` only with such a token, never with an API key, session or API token. The caller must hold the stream's permission (403); a path that is no event stream is 422.",
      permission: "authenticated",
      audit: false,
      body: StreamTokenRequest,
      success: { status: 201, description: "Stream token", data: StreamTokenResponseSchema },
      errors: [403, 422],
    },
    async (c, { body }) => {
      const principal = principalOf(c);
      const stream = findStreamOperation(body.path);
      if (!stream)
        throw new ApiError("validation_failed", "Validation failed", {
          path: ["is not a Server-Sent Events path"],
        });
      requirePermission(principal, stream.permission ?? "*");
      const issued = await issueStreamToken(principal, body.path, c.get("config").encryptionKey, Date.now());
      return { data: { token: issued.token, expires_at: isoSeconds(issued.expiresAt) } };
    },
  );
}
