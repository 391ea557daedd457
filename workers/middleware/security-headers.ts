import type { MiddlewareHandler } from "hono";

/**
 * SHA-256 hashes (CSP source form) of the inline `<style>` blocks our own pages carry. Only these run
 * under the page policy; a test hashes every inline block of every page and fails when one is missing.
 * - the `<style>` of `/asyncdoc` (workers/routes/asyncapi.ts)
 */
export const INLINE_STYLE_HASHES: readonly string[] = [
  "'sha256-jrrSgT2gboT9fiBhNrouV//gSvWq6Jph3EV/lzo1F4g='",
];

export interface SecurityHeadersOptions {
  /** Extra CSP hashes for inline `<style>` blocks, e.g. `"'sha256-…'"`. */
  styleHashes?: readonly string[];
}

/**
 * The policy of every HTML page: scripts, styles, fetches and fonts from our own origin only. A page
 * with an inline script (the console's early request) names that script's hash, and only that page.
 */
export function pagePolicy(
  styleHashes: readonly string[] = INLINE_STYLE_HASHES,
  scriptHashes: readonly string[] = [],
): string {
  return [
    "default-src 'none'",
    `script-src ${["'self'", ...scriptHashes].join(" ")}`,
    `style-src ${["'self'", ...styleHashes].join(" ")}`,
    // Swagger UI's stylesheet draws its icons as data: SVGs.
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Anything that is not a page (JSON, scripts, styles, the agent bundle) runs nothing if opened as a document. */
export const NON_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'";

/**
 * Security headers on every answer of the Worker, static assets included (wrangler.toml's
 * `run_worker_first = true` routes them through here): `X-Content-Type-Options: nosniff` and
 * `Referrer-Policy: no-referrer` everywhere; HTML pages get {@link pagePolicy}, everything else
 * {@link NON_PAGE_POLICY}. A route whose page carries an inline script sets `inlineScriptHashes` on
 * the context, and that page's policy allows those scripts. WebSocket upgrades (101) are left as they are.
 *
 * @example
 * app.use("*", securityHeaders());
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): MiddlewareHandler {
  const styles = [...INLINE_STYLE_HASHES, ...(options.styleHashes ?? [])];
  const page = pagePolicy(styles);
  return async function securityHeadersMiddleware(c, next) {
    await next();
    if (c.res.status === 101) return;
    const html = (c.res.headers.get("content-type") ?? "").toLowerCase().startsWith("text/html");
    const scripts = c.get("inlineScriptHashes") as readonly string[] | undefined;
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    c.header(
      "Content-Security-Policy",
      !html ? NON_PAGE_POLICY : scripts?.length ? pagePolicy(styles, scripts) : page,
    );
  };
}
