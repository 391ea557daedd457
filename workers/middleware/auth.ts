import { constantTimeEqual } from "../../src/crypto/secrets";
import { ApiError } from "../errors";
import { bearerToken } from "./bearer";
import type { AppContext } from "./request-context";

/**
 * Requires `Authorization: Bearer <API_KEY|MASTER_KEY>`. Every configured key is
 * compared (in constant time) so timing does not tell which one nearly matched.
 * Route definitions call it for every operation not marked public.
 */
export async function checkApiKey(c: AppContext): Promise<void> {
  const token = bearerToken(c.req.header("authorization"));
  if (!token) throw new ApiError("unauthorized", "Missing API key: send Authorization: Bearer <API_KEY>");
  const results = await Promise.all(c.get("config").apiKeys.map((key) => constantTimeEqual(token, key)));
  if (!results.includes(true)) throw new ApiError("unauthorized", "Invalid API key");
}
