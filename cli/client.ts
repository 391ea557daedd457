// The typed API client: openapi-fetch over the generated `paths`, with the credential attached and
// every non-2xx turned into an ApiFailure carrying the server's message and request id.
import createClient from "openapi-fetch";
import type { paths } from "./api-types";
import type { Credentials } from "./config";
import { ApiFailure, CliError } from "./errors";

export type ApiClient = ReturnType<typeof createApiClient>;

const USER_AGENT = "outpost-cli";

/** A client for `credentials.url`, authenticated with `credentials.token`. */
export function createApiClient(credentials: Pick<Credentials, "url" | "token">) {
  return createClient<paths>({
    baseUrl: credentials.url,
    headers: { Authorization: `Bearer ${credentials.token}`, "User-Agent": USER_AGENT },
    fetch: (request) =>
      fetch(request).catch((error: Error & { cause?: { message?: string } }) => {
        throw new CliError(`cannot reach ${credentials.url}: ${error.cause?.message ?? error.message}`, 1);
      }),
  });
}

/** The `data` of a successful answer, or an ApiFailure for an error answer. */
export function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) throw ApiFailure.from(result.response, result.error);
  return result.data as T;
}

/**
 * A request outside the generated types (routes a newer server may have, such as logs): plain
 * fetch with the same credential; a non-2xx becomes an ApiFailure.
 */
export async function rawRequest(
  credentials: Pick<Credentials, "url" | "token">,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${credentials.token}`);
  headers.set("User-Agent", USER_AGENT);
  let response: Response;
  try {
    response = await fetch(new URL(path, credentials.url), { ...init, headers });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new CliError(`cannot reach ${credentials.url}: ${cause}`);
  }
  if (!response.ok) {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    throw ApiFailure.from(response, body);
  }
  return response;
}
