// SSH passwords are stored as Argon2id PHC strings. Pure JS (@noble/hashes): workerd refuses to
// compile WebAssembly from bytes at run time, and has no native Argon2.
import { argon2id } from "@noble/hashes/argon2.js";

/** Argon2 cost: memory in KiB, passes, lanes. */
export interface Argon2Params {
  m: number;
  t: number;
  p: number;
}

/**
 * OWASP's minimum for Argon2id (19 MiB, 2 passes, 1 lane). Measured with @noble/hashes on Node 22
 * (the V8 workerd runs): about 300 ms of CPU per hash on a 2-core CI VM; a Worker on the paid plan
 * may use 30 s of CPU per request. The parameters live in each PHC string, so raising them later
 * leaves existing hashes verifiable.
 */
export const ARGON2_PARAMS: Argon2Params = { m: 19_456, t: 2, p: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;
// Bounds for parameters read back from a stored hash, so a corrupt row cannot pin a Worker.
const MAX_MEMORY_KIB = 65_536;
const MAX_PASSES = 10;

const encoder = new TextEncoder();

function toBase64NoPad(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/=+$/, "");
}

function fromBase64NoPad(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]+$/.test(text)) return null;
  try {
    const binary = atob(text + "=".repeat((4 - (text.length % 4)) % 4));
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

function derive(password: string, salt: Uint8Array, params: Argon2Params, dkLen: number): Uint8Array {
  return argon2id(encoder.encode(password), salt, { ...params, dkLen, version: 0x13 });
}

/**
 * Hashes a password with Argon2id and a random salt.
 * @example hashPassword("correct horse battery") // "$argon2id$v=19$m=19456,t=2,p=1$…$…"
 */
export function hashPassword(password: string, params: Argon2Params = ARGON2_PARAMS): string {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = derive(password, salt, params, HASH_BYTES);
  return `$argon2id$v=19$m=${params.m},t=${params.t},p=${params.p}$${toBase64NoPad(salt)}$${toBase64NoPad(hash)}`;
}

/**
 * Checks a password against a PHC string from `hashPassword` (with the parameters stored in it).
 * False for a wrong password and for a malformed or out-of-bounds hash; compares in constant time.
 */
export function verifyPassword(password: string, phc: string): boolean {
  const match =
    /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
  if (!match) return false;
  const [m, t, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (m < 8 * p || m > MAX_MEMORY_KIB || t < 1 || t > MAX_PASSES || p < 1 || p > 16) return false;
  const salt = fromBase64NoPad(match[4]);
  const expected = fromBase64NoPad(match[5]);
  if (!salt || !expected || salt.length < 8 || expected.length < 16) return false;
  const actual = derive(password, salt, { m, t, p }, expected.length);
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= actual[i] ^ expected[i];
  return diff === 0;
}
