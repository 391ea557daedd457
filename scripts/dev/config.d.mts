// Types for the parts of config.mjs the tests use (plain ESM JavaScript, no build step).

/** Minimal dotenv parser: `KEY=VALUE` lines, `#` comments, optional `export `, quoted values. */
export function parseDotenv(text: string): Record<string, string>;

/** Reads the dev vars file, creating it (0600) or appending the keys it lacks (then chmod 0600). */
export function ensureDevVars(file: string): { vars: Record<string, string>; note: string | null };
