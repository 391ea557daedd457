/** Renders epoch milliseconds as ISO 8601 UTC with second precision, as the contract shows (`2025-06-09T08:00:00Z`). */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** Like `isoSeconds`, but passes `null` through. */
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : isoSeconds(ms);
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Parses an ISO 8601 datetime with an explicit offset, or a date-only value
 * (start or end of that day UTC). Returns epoch ms, or null when malformed.
 */
export function parseIsoInstant(text: string, dateOnlyAs: "start" | "end" = "start"): number | null {
  if (DATE_ONLY.test(text)) {
    const ms = Date.parse(`${text}T00:00:00Z`);
    if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text) return null;
    return dateOnlyAs === "start" ? ms : ms + 86_400_000 - 1;
  }
  if (!DATE_TIME.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}
