import { createHash } from "../light-crypto";

// Keys sorted at every level, so the same content always hashes the same whatever order it was built in.
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}

// Fields that change with every check without the content changing: left out of the hash, so an
// hourly check with the same result is not a change (the stored copy keeps the first time seen).
const VOLATILE: Record<string, readonly string[]> = {
  updates: ["checked_at", "cache_age_seconds"],
};

/** SHA-256 (hex) of a section's canonical JSON: the content hash the server compares. */
export function contentHash(section: string, status: string, payload: unknown): string {
  let hashed = payload;
  const volatile = VOLATILE[section];
  if (volatile && payload && typeof payload === "object") {
    hashed = Object.fromEntries(Object.entries(payload).filter(([key]) => !volatile.includes(key)));
  }
  return createHash("sha256")
    .update(JSON.stringify(canonical({ section, status, payload: hashed })))
    .digest("hex");
}
