/** What one outbound POST of a webhook or notification came to. */
export interface PostOutcome {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * One POST attempt to an operator-supplied URL, classified for a delivery record: 2xx is success,
 * any other status or a network failure or timeout is an error message. Redirects are not followed:
 * the target of a redirect never went through the SSRF check.
 */
export async function postOnce(
  url: string,
  headers: Headers,
  body: string,
  timeoutMs: number,
): Promise<PostOutcome> {
  const started = Date.now();
  try {
    const res = await fetch(url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    const ok = res.status >= 200 && res.status < 300;
    return {
      statusCode: res.status,
      error: ok ? null : `HTTP ${res.status}`,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    const e = err as Error;
    const error = e?.name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : String(e?.message ?? err);
    return { statusCode: null, error: error.slice(0, 1000), durationMs: Date.now() - started };
  }
}
