// The SSH lookups' outage cache, in <state>/ssh-cache (0700, files 0600). It is only read when the
// server cannot answer: every answer the server does give replaces (or removes) the entry, so a
// key or password removed in Outpost stops working at once while the server is up, and at most
// SSH_CACHE_TTL_MS after the last successful lookup while it is down.
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import * as v from "valibot";
import { ensurePrivateDir, readJsonFile, removeFile, writeFileAtomic } from "./files";

/** How long a successful lookup may stand in for an unreachable server: 10 minutes. */
export const SSH_CACHE_TTL_MS = 10 * 60_000;

// scrypt of the password, so the cache never holds it (N=2^14, r=8: ~16 MiB, tens of ms).
const SCRYPT = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const SCRYPT_BYTES = 32;

const KeysEntry = v.object({ fetched_at: v.number(), public_keys: v.array(v.string()) });
const PasswordEntry = v.object({
  verified_at: v.number(),
  salt: v.pipe(v.string(), v.hexadecimal()),
  hash: v.pipe(v.string(), v.hexadecimal()),
});

function cacheDir(stateDir: string): string {
  return join(stateDir, "ssh-cache");
}

// Usernames are checked against the contract's pattern ([a-z0-9_-]) before they reach a path.
function entryPath(stateDir: string, kind: "keys" | "password", username: string): string {
  return join(cacheDir(stateDir), `${kind}-${username}.json`);
}

async function readEntry<S extends v.GenericSchema>(
  path: string,
  schema: S,
): Promise<v.InferOutput<S> | null> {
  const raw = await readJsonFile(path).catch(() => null);
  const parsed = v.safeParse(schema, raw);
  return parsed.success ? parsed.output : null;
}

async function writeEntry(stateDir: string, path: string, entry: unknown): Promise<void> {
  await ensurePrivateDir(cacheDir(stateDir));
  await writeFileAtomic(path, `${JSON.stringify(entry)}\n`, 0o600);
}

function fresh(at: number, now: number): boolean {
  return at <= now && now - at < SSH_CACHE_TTL_MS;
}

function scryptHash(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, SCRYPT_BYTES, SCRYPT, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** Records the server's answer for `username`: its keys, or (none) no entry at all. */
export async function replaceCachedKeys(
  stateDir: string,
  username: string,
  keys: string[],
  now = Date.now(),
): Promise<void> {
  const path = entryPath(stateDir, "keys", username);
  if (keys.length === 0) await removeFile(path);
  else await writeEntry(stateDir, path, { fetched_at: now, public_keys: keys });
}

/** The keys of the last successful lookup, when it is younger than the TTL; else null. */
export async function cachedKeys(
  stateDir: string,
  username: string,
  now = Date.now(),
): Promise<string[] | null> {
  const entry = await readEntry(entryPath(stateDir, "keys", username), KeysEntry);
  return entry && fresh(entry.fetched_at, now) ? entry.public_keys : null;
}

/** Records a password the server accepted, as a salted scrypt hash. */
export async function rememberPassword(
  stateDir: string,
  username: string,
  password: string,
  now = Date.now(),
): Promise<void> {
  const salt = randomBytes(16);
  const hash = await scryptHash(password, salt);
  await writeEntry(stateDir, entryPath(stateDir, "password", username), {
    verified_at: now,
    salt: salt.toString("hex"),
    hash: hash.toString("hex"),
  });
}

/** Forgets the password entry (the server refused it, or no longer knows the username). */
export async function forgetPassword(stateDir: string, username: string): Promise<void> {
  await removeFile(entryPath(stateDir, "password", username));
}

/** True when `password` is the one the server last accepted for `username`, within the TTL. */
export async function passwordCached(
  stateDir: string,
  username: string,
  password: string,
  now = Date.now(),
): Promise<boolean> {
  const entry = await readEntry(entryPath(stateDir, "password", username), PasswordEntry);
  if (!entry || !fresh(entry.verified_at, now)) return false;
  const expected = Buffer.from(entry.hash, "hex");
  if (expected.length !== SCRYPT_BYTES) return false;
  const actual = await scryptHash(password, Buffer.from(entry.salt, "hex"));
  return timingSafeEqual(actual, expected);
}
