// Workers Rate Limiting counts in fixed windows aligned to the wall clock (miniflare does the same),
// so a burst that straddles a window edge starts counting again halfway and is never limited.
const WINDOW_MS = 60_000;

/**
 * Runs a burst until one run falls inside a single rate-limit window; `burst` gets the attempt
 * number so it can use fresh keys each time.
 */
export async function inOneWindow<T>(burst: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const window = Math.floor(Date.now() / WINDOW_MS);
    const result = await burst(attempt);
    if (Math.floor(Date.now() / WINDOW_MS) === window || attempt >= 2) return result;
  }
}
