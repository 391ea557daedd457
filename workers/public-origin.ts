import { PUBLIC_ORIGIN } from "../src/config";
import { ApiError } from "./errors";
import type { AppContext } from "./middleware/request-context";

/**
 * The origin agents, install scripts, key blobs and self-updates should use: PUBLIC_API_URL
 * (validated at boot), else the request's origin when it passes the same pattern. A Host header
 * with anything else (shell metacharacters, say) is refused with 400 rather than reflected.
 * @example publicOrigin(c) // "https://outpost.example.com"
 */
export function publicOrigin(c: AppContext): string {
  const configured = c.get("config").publicApiUrl;
  if (configured) return configured;
  const origin = new URL(c.req.url).origin;
  // Letters, digits, dots and dashes, optional port: nothing a shell or a URL could take for syntax.
  if (!PUBLIC_ORIGIN.test(origin)) {
    throw new ApiError(
      "bad_request",
      "The request's host is not a plain host name; set PUBLIC_API_URL to this server's public origin",
    );
  }
  return origin;
}

/**
 * `text` as the inside of a single-quoted POSIX shell string: a `'` closes the quote, is escaped
 * and reopens it, so nothing in `text` is ever expanded.
 * @example `X='${shellSingleQuoted("a'b")}'` // X='a'\''b'
 */
export function shellSingleQuoted(text: string): string {
  return text.replaceAll("'", "'\\''");
}
