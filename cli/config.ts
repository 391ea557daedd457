// Where `outpost login` keeps the server and the credential: $XDG_CONFIG_HOME/outpost/config.json
// (else ~/.config/outpost), mode 0600 in a 0700 directory, because the file holds a bearer secret.
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** What `outpost login` stores. */
export interface StoredLogin {
  url: string;
  token: string;
  /** `session` (from a user's password, expires) or `token` (an API token or key). */
  kind: "session" | "token";
  username?: string;
  expires_at?: string;
}

/** The server and credential a command uses, and where they came from. */
export interface Credentials {
  url: string;
  token: string;
  source: "environment" | "config" | "flags";
}

/** The config file's path for this environment. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "outpost", "config.json");
}

/** The stored login, or null when there is none (or it cannot be read as one). */
export async function readLogin(env: NodeJS.ProcessEnv = process.env): Promise<StoredLogin | null> {
  try {
    const raw = JSON.parse(await readFile(configPath(env), "utf8"));
    return raw && typeof raw.url === "string" && typeof raw.token === "string" ? raw : null;
  } catch {
    return null;
  }
}

/** Writes the login atomically with mode 0600 (the directory 0700). */
export async function writeLogin(login: StoredLogin, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = configPath(env);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  // writeFile's mode is masked by the umask and ignored for an existing file: set it outright.
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return file;
}

/** Forgets the stored login. */
export async function removeLogin(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await rm(configPath(env), { force: true });
}

/** A server URL as typed (`op.example.com`, `https://op.example.com/`) → its origin. */
export function normalizeUrl(input: string): string {
  const withScheme = /^https?:\/\//i.test(input) ? input : `https://${input}`;
  const url = new URL(withScheme);
  return url.origin;
}

/**
 * The credentials for a command: `--url`/`--token` flags, then OUTPOST_URL/OUTPOST_TOKEN, then
 * the stored login; each part independently (OUTPOST_TOKEN with the stored URL works).
 */
export async function resolveCredentials(
  flags: { url?: string; token?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | null> {
  const stored = await readLogin(env);
  const url = flags.url ?? env.OUTPOST_URL ?? stored?.url;
  const token = flags.token ?? env.OUTPOST_TOKEN ?? stored?.token;
  if (!url || !token) return null;
  const source =
    flags.url || flags.token ? "flags" : env.OUTPOST_URL || env.OUTPOST_TOKEN ? "environment" : "config";
  return { url: normalizeUrl(url), token, source };
}
