import { constantTimeEqual } from "../../src/crypto/secrets";
import { ApiError } from "../errors";
import { clientIp, enforceRateLimit } from "./rate-limit";
import type { AppContext } from "./request-context";

/**
 * Requires `Authorization: Bearer <API_KEY|MASTER_KEY>`. Every configured key is
 * compared (in constant time) so timing does not tell which one nearly matched.
 * Route definitions call it for every operation not marked public.
 */
export async function checkApiKey(c: AppContext): Promise<void> {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return refuse(c, "Missing API key: send Authorization: Bearer <API_KEY>");
  const results = await Promise.all(c.get("config").apiKeys.map((key) => constantTimeEqual(match[1], key)));
  if (!results.includes(true)) return refuse(c, "Invalid API key");
}

// A failed authentication counts against the client's limit: past it, 429 instead of 401.
async function refuse(c: AppContext, message: string): Promise<never> {
  await enforceRateLimit(
    c.env.AUTH_FAILURE_RATE_LIMITER,
    `auth:${clientIp(c)}`,
    c.get("config").rateLimits.authFailures,
  );
  throw new ApiError("unauthorized", message);
}
