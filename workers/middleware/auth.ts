import { constantTimeEqual } from "../../src/crypto/secrets";
import { ApiError } from "../errors";
import type { AppContext } from "./request-context";

/**
 * Requires `Authorization: Bearer <API_KEY|MASTER_KEY>`. Every configured key is
 * compared (in constant time) so timing does not tell which one nearly matched.
 * Route definitions call it for every operation not marked public.
 */
export async function checkApiKey(c: AppContext): Promise<void> {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new ApiError("unauthorized", "Missing API key: send Authorization: Bearer <API_KEY>");
  const results = await Promise.all(c.get("config").apiKeys.map((key) => constantTimeEqual(match[1], key)));
  if (!results.includes(true)) throw new ApiError("unauthorized", "Invalid API key");
}
