// Configuration of the dev runner: environment, the dev vars file, the settings forwarded to the Worker.
import { randomBytes } from "node:crypto";
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Keys the runner makes sure the dev vars file holds. */
const GENERATED_KEYS = ["API_KEY", "MASTER_KEY", "ENCRYPTION_KEY"];
/** The Worker refuses shorter keys (src/config.ts MIN_KEY_LENGTH). */
const MIN_KEY_LENGTH = 24;
/** Always the local libSQL server, whatever the environment says. */
const LOCAL_ONLY = new Set(["LIBSQL_URL", "LIBSQL_AUTH_TOKEN"]);

/** Minimal dotenv parser: `KEY=VALUE` lines, `#` comments, optional `export `, quoted values. */
export function parseDotenv(text) {
  const vars = {};
  for (const raw of text.split(/\r?\n/)) {
    const m = raw.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (!m) continue;
    let value = m[2];
    const quoted = value.match(/^(["'`])(.*)\1$/);
    if (quoted) value = quoted[2];
    else value = value.replace(/\s+#.*$/, "");
    vars[m[1]] = value;
  }
  return vars;
}

/**
 * Reads the dev vars file; creates it with random keys when absent and appends any of
 * API_KEY / MASTER_KEY / ENCRYPTION_KEY it lacks (existing values are never changed), 43 random
 * characters each. A file it appends to is made 0600 like one it creates.
 * @throws Error when the file holds one of those keys shorter than 24 characters
 * @returns {{ vars: Record<string,string>, note: string | null }}
 */
export function ensureDevVars(file) {
  const exists = existsSync(file);
  const vars = exists ? parseDotenv(readFileSync(file, "utf8")) : {};
  for (const k of GENERATED_KEYS) {
    if (vars[k] && vars[k].length < MIN_KEY_LENGTH) {
      throw new Error(
        `${k} in ${file} is shorter than ${MIN_KEY_LENGTH} characters, which the Worker refuses: replace it (or delete the line to get a generated one)${k === "ENCRYPTION_KEY" ? "; values encrypted with the old key become unreadable" : ""}`,
      );
    }
  }
  const missing = GENERATED_KEYS.filter((k) => !vars[k]);
  if (missing.length === 0) return { vars, note: null };
  const lines = missing.map((k) => `${k}=${randomBytes(32).toString("base64url")}`);
  if (exists) {
    const text = readFileSync(file, "utf8");
    appendFileSync(file, `${text.endsWith("\n") || text === "" ? "" : "\n"}${lines.join("\n")}\n`);
    // It now holds generated secrets: as private as a file created here.
    chmodSync(file, 0o600);
  } else {
    mkdirSync(dirname(file), { recursive: true });
    const header = "# Local secrets for `npm start` and `wrangler dev` (generated; not committed).\n";
    writeFileSync(file, `${header}${lines.join("\n")}\n`, { mode: 0o600 });
  }
  Object.assign(vars, parseDotenv(lines.join("\n")));
  return {
    vars,
    note: exists ? `added ${missing.join(", ")} to ${file}` : `created ${file} with random keys`,
  };
}

/** Names of every documented setting (src/settings.ts): imported on Node ≥ 22, parsed otherwise. */
export async function settingNames() {
  const file = resolve(ROOT, "src/settings.ts");
  try {
    const { SETTINGS } = await import(file);
    return SETTINGS.map((s) => s.name);
  } catch {
    return [...readFileSync(file, "utf8").matchAll(/\bname:\s*"([A-Z0-9_]+)"/g)].map((m) => m[1]);
  }
}

function number(env, name, fallback, { min, integer }) {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new Error(`${name} must be ${integer ? "an integer" : "a number"} ≥ ${min}, got "${raw}"`);
  }
  return n;
}

/** Everything the runner needs from the environment, validated. */
export async function loadConfig(env = process.env) {
  const port = number(env, "PORT", 8787, { min: 1, integer: true });
  if (port > 65535) throw new Error(`PORT must be at most 65535, got ${port}`);
  const dataDir = resolve(ROOT, env.DATA_DIR || ".data");
  const devVarsFile = resolve(ROOT, env.DEV_VARS_FILE || ".dev.vars");
  const { vars, note } = ensureDevVars(devVarsFile);
  const keys = {};
  for (const k of GENERATED_KEYS) keys[k] = env[k] || vars[k];
  // Settings from the environment win over the file: they are passed with --var.
  const forwarded = {};
  const ignored = [];
  for (const name of await settingNames()) {
    if (env[name] === undefined || env[name] === "") continue;
    if (LOCAL_ONLY.has(name)) ignored.push(name);
    else forwarded[name] = env[name];
  }
  return {
    port,
    dataDir,
    devVarsFile,
    devVarsNote: note,
    keys,
    forwarded: { ...forwarded, ...keys },
    envSettings: Object.keys(forwarded).filter((n) => !GENERATED_KEYS.includes(n)),
    ignored,
    cronIntervalMs: number(env, "DEV_CRON_INTERVAL", 60, { min: 0, integer: false }) * 1000,
    logTicks: env.DEV_LOG_TICKS === "1" || env.DEV_LOG_TICKS === "true",
  };
}
