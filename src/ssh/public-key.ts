// OpenSSH public keys (`algorithm base64 [comment]`), parsed rather than pattern-matched: the
// base64 body is decoded as an SSH wire-format key blob (RFC 4253 §6.6, RFC 5656 §3.1,
// RFC 8709 §4) and each algorithm's fields are checked.

/** Algorithms accepted, as the contract lists them. */
export const SSH_KEY_ALGORITHMS = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
] as const;
export type SshKeyAlgorithm = (typeof SSH_KEY_ALGORITHMS)[number];

/** The contract's pattern for `public_key` (documentation and a first, shallow check). */
export const PUBLIC_KEY_PATTERN =
  /^(ssh-ed25519|ecdsa-sha2-nistp(?:256|384|521)|ssh-rsa)\s+([A-Za-z0-9+/]+=*)\s*(.*)$/;

export const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 16384;
/** Longest accepted key text (a 16384-bit RSA key with a long comment fits). */
export const MAX_PUBLIC_KEY_LENGTH = 8192;
const MAX_COMMENT_LENGTH = 1024;

// Uncompressed EC point length (0x04 ‖ X ‖ Y) per curve.
const EC_POINT_BYTES: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

export interface ParsedPublicKey {
  algorithm: SshKeyAlgorithm;
  /** The decoded key blob (what the fingerprint is computed over). */
  blob: Uint8Array;
  comment: string;
  /** `algorithm base64 [comment]` with single spaces: what is stored and handed to sshd. */
  normalized: string;
  /** RSA modulus size; absent for other algorithms. */
  bits?: number;
}

export type ParseResult = { ok: true; key: ParsedPublicKey } | { ok: false; error: string };

class WireError extends Error {}

/** A cursor over an SSH wire-format buffer (uint32 big-endian lengths). */
class Reader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  string(what: string): Uint8Array {
    if (this.offset + 4 > this.bytes.length) throw new WireError(`key data is truncated (${what})`);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.offset, 4);
    const length = view.getUint32(0);
    this.offset += 4;
    if (this.offset + length > this.bytes.length) throw new WireError(`key data is truncated (${what})`);
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  text(what: string): string {
    const raw = this.string(what);
    if (!raw.every((b) => b >= 0x20 && b < 0x7f)) throw new WireError(`key data has a malformed ${what}`);
    return String.fromCharCode(...raw);
  }

  /** A positive mpint's magnitude (big-endian, no sign byte); refuses zero, negative and non-minimal encodings. */
  positiveMpint(what: string): Uint8Array {
    const raw = this.string(what);
    if (raw.length === 0) throw new WireError(`${what} is zero`);
    if (raw[0] & 0x80) throw new WireError(`${what} is negative`);
    if (raw[0] === 0 && (raw.length === 1 || !(raw[1] & 0x80)))
      throw new WireError(`${what} is not minimally encoded`);
    return raw[0] === 0 ? raw.subarray(1) : raw;
  }

  end(): void {
    if (this.offset !== this.bytes.length) throw new WireError("key data has trailing bytes");
  }
}

function decodeBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  // Non-canonical encodings (stray bits in the last character) would let one key have many spellings.
  if (encodeBase64(out) !== text) return null;
  return out;
}

function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function bitLength(magnitude: Uint8Array): number {
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0]));
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

function checkBlob(algorithm: SshKeyAlgorithm, blob: Uint8Array): { bits?: number } {
  const r = new Reader(blob);
  const embedded = r.text("algorithm name");
  if (embedded !== algorithm)
    throw new WireError(`key data is for "${embedded}", but the key is declared as "${algorithm}"`);
  if (algorithm === "ssh-ed25519") {
    const point = r.string("ed25519 public key");
    if (point.length !== 32) throw new WireError(`ed25519 public key is ${point.length} bytes, expected 32`);
    r.end();
    return {};
  }
  if (algorithm === "ssh-rsa") {
    const e = r.positiveMpint("RSA public exponent");
    if (bitLength(e) < 2 || !(e[e.length - 1] & 1))
      throw new WireError("RSA public exponent must be an odd number of at least 3");
    const bits = bitLength(r.positiveMpint("RSA modulus"));
    r.end();
    if (bits < MIN_RSA_BITS)
      throw new WireError(`RSA key is ${bits} bits; at least ${MIN_RSA_BITS} bits are required`);
    if (bits > MAX_RSA_BITS)
      throw new WireError(`RSA key is ${bits} bits; at most ${MAX_RSA_BITS} bits are supported`);
    return { bits };
  }
  const curve = algorithm.slice("ecdsa-sha2-".length);
  const embeddedCurve = r.text("curve name");
  if (embeddedCurve !== curve)
    throw new WireError(`key data names curve "${embeddedCurve}", but the key is declared as "${algorithm}"`);
  const point = r.string("EC point");
  if (point.length !== EC_POINT_BYTES[curve] || point[0] !== 0x04)
    throw new WireError(`EC point is not an uncompressed ${curve} point`);
  r.end();
  return {};
}

/**
 * Parses one OpenSSH public key line and checks its key blob: algorithm in the supported list,
 * strict base64, embedded algorithm equal to the declared one, ed25519 key of 32 bytes, ECDSA
 * curve matching, RSA modulus of at least 2048 bits. The comment is kept (single-line, printable).
 * @example parsePublicKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI… user@laptop")
 */
export function parsePublicKey(text: string): ParseResult {
  if (text.length > MAX_PUBLIC_KEY_LENGTH)
    return { ok: false, error: `must be at most ${MAX_PUBLIC_KEY_LENGTH} characters` };
  const trimmed = text.trim();
  if (hasControlCharacter(trimmed))
    return { ok: false, error: "must be a single line without control characters" };
  const [algorithm = "", body = "", ...rest] = trimmed.split(/[ \t]+/);
  if (!(SSH_KEY_ALGORITHMS as readonly string[]).includes(algorithm)) {
    return {
      ok: false,
      error: `must start with a supported algorithm (${SSH_KEY_ALGORITHMS.join(", ")})`,
    };
  }
  if (body === "") return { ok: false, error: "is missing the base64 key data" };
  const blob = /^[A-Za-z0-9+/]+=*$/.test(body) ? decodeBase64(body) : null;
  if (!blob) return { ok: false, error: "key data is not valid base64" };
  const comment = rest.join(" ");
  if (comment.length > MAX_COMMENT_LENGTH)
    return { ok: false, error: `comment must be at most ${MAX_COMMENT_LENGTH} characters` };
  let bits: number | undefined;
  try {
    ({ bits } = checkBlob(algorithm as SshKeyAlgorithm, blob));
  } catch (error) {
    if (error instanceof WireError) return { ok: false, error: error.message };
    throw error;
  }
  return {
    ok: true,
    key: {
      algorithm: algorithm as SshKeyAlgorithm,
      blob,
      comment,
      normalized: comment ? `${algorithm} ${body} ${comment}` : `${algorithm} ${body}`,
      ...(bits === undefined ? {} : { bits }),
    },
  };
}

/**
 * OpenSSH's fingerprint of a key blob: `SHA256:` and the unpadded base64 of its SHA-256, as
 * `ssh-keygen -lf` prints it. Equal blobs have equal fingerprints, whatever the comment.
 */
export async function fingerprint(blob: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", blob));
  return `SHA256:${encodeBase64(digest).replace(/=+$/, "")}`;
}
