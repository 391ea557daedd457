// The few hashes and random bytes the agent needs while it idles, without `node:crypto`
// (issue 25, docs/agent-footprint.md). Loading Node's crypto module costs ~1.1 MB of resident
// memory on Node 20 (its JavaScript, and the OpenSSL code it touches) for the life of the process,
// and an idle agent only needs: the WebSocket handshake's SHA-1 and masking bytes (ws, through
// scripts/build-agent.mjs), UUIDs, temp file names, SHA-256 of small texts (journal names, inventory sections) and
// identity's SHA-1. Random bytes come from the kernel (/dev/urandom), as Node's own do.
// Anything else, or a large input, goes to `node:crypto`, loaded on first use.
import { closeSync, openSync, readSync } from "node:fs";
import { createRequire } from "node:module";

let urandom: number | undefined;

/** Fills `buf[offset, offset + size)` with random bytes from the kernel. */
export function randomFillSync<T extends Uint8Array>(buf: T, offset = 0, size = buf.length - offset): T {
  urandom ??= openSync("/dev/urandom", "r");
  let done = 0;
  while (done < size) {
    const n = readSync(urandom, buf, offset + done, size - done, null);
    if (n <= 0) throw new Error("/dev/urandom returned no bytes");
    done += n;
  }
  return buf;
}

/** `n` random bytes. */
export function randomBytes(n: number): Buffer {
  return randomFillSync(Buffer.allocUnsafe(n));
}

/** A random (version 4) UUID, as crypto.randomUUID() makes. */
export function randomUUID(): string {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Closes /dev/urandom (tests). */
export function closeRandom(): void {
  if (urandom !== undefined) closeSync(urandom);
  urandom = undefined;
}

/**
 * Inputs above this go to node:crypto: without an optimizing compiler (--lite-mode) the JavaScript
 * SHA-256 does ~1 MB/s (a busy shared machine), and a host's package list can be a few hundred KB.
 */
export const LIGHT_HASH_MAX_BYTES = 512 * 1024;

// biome-ignore format: the constants read better as a block
const K256 = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** The message padded to whole 64-byte blocks (big-endian bit length last), as 32-bit words. */
function padded(data: Uint8Array): Int32Array {
  const blocks = Math.ceil((data.length + 9) / 64);
  const bytes = new Uint8Array(blocks * 64);
  bytes.set(data);
  bytes[data.length] = 0x80;
  const view = new DataView(bytes.buffer);
  const bits = data.length * 8;
  view.setUint32(bytes.length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(bytes.length - 4, bits >>> 0);
  const words = new Int32Array(bytes.length / 4);
  for (let i = 0; i < words.length; i++) words[i] = view.getInt32(i * 4);
  return words;
}

function toBytes(state: Int32Array): Buffer {
  const out = Buffer.allocUnsafe(state.length * 4);
  for (let i = 0; i < state.length; i++) out.writeInt32BE(state[i], i * 4);
  return out;
}

const rotl = (x: number, n: number) => (x << n) | (x >>> (32 - n));

/** SHA-256 (FIPS 180-4) of `data`. Rotations inlined, no destructuring: it runs interpreted (--lite-mode). */
export function sha256(data: Uint8Array): Buffer {
  const m = padded(data);
  const h = new Int32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const w = new Int32Array(64);
  for (let block = 0; block < m.length; block += 16) {
    for (let t = 0; t < 16; t++) w[t] = m[block + t];
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15];
      const y = w[t - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    let a = h[0];
    let b = h[1];
    let c = h[2];
    let d = h[3];
    let e = h[4];
    let f = h[5];
    let g = h[6];
    let hh = h[7];
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K256[t] + w[t]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  return toBytes(h);
}

/** SHA-1 (FIPS 180-4) of `data`: the WebSocket handshake and name-based UUIDs need it. */
export function sha1(data: Uint8Array): Buffer {
  const m = padded(data);
  const h = new Int32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]);
  const w = new Int32Array(80);
  for (let block = 0; block < m.length; block += 16) {
    for (let t = 0; t < 16; t++) w[t] = m[block + t];
    for (let t = 16; t < 80; t++) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    let [a, b, c, d, e] = h;
    for (let t = 0; t < 80; t++) {
      const f =
        t < 20
          ? ((b & c) | (~b & d)) + 0x5a827999
          : t < 40
            ? (b ^ c ^ d) + 0x6ed9eba1
            : t < 60
              ? ((b & c) | (b & d) | (c & d)) + 0x8f1bbcdc
              : (b ^ c ^ d) + 0xca62c1d6;
      const temp = (rotl(a, 5) + f + e + w[t]) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  return toBytes(h);
}

type Digest = { update(data: string | Uint8Array, encoding?: BufferEncoding): Digest; digest(): Buffer } & {
  digest(encoding: BufferEncoding): string;
};

const nodeCrypto = () => createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto");

/**
 * `crypto.createHash` for what the idle agent hashes: SHA-1 and SHA-256 in JavaScript up to
 * LIGHT_HASH_MAX_BYTES; other algorithms, and inputs that grow past it, in node:crypto.
 */
export function createHash(algorithm: string): Digest {
  const light = algorithm === "sha1" ? sha1 : algorithm === "sha256" ? sha256 : null;
  if (!light) return nodeCrypto().createHash(algorithm) as unknown as Digest;
  let chunks: Buffer[] = [];
  let size = 0;
  let heavy: ReturnType<typeof import("node:crypto").createHash> | null = null;
  const hash: Digest = {
    update(data, encoding) {
      const chunk = typeof data === "string" ? Buffer.from(data, encoding ?? "utf8") : Buffer.from(data);
      if (heavy) {
        heavy.update(chunk);
        return hash;
      }
      chunks.push(chunk);
      size += chunk.length;
      if (size > LIGHT_HASH_MAX_BYTES) {
        heavy = nodeCrypto().createHash(algorithm);
        for (const c of chunks) heavy.update(c);
        chunks = [];
      }
      return hash;
    },
    digest(encoding?: BufferEncoding) {
      const out = heavy ? heavy.digest() : light(Buffer.concat(chunks, size));
      return (encoding ? out.toString(encoding) : out) as never;
    },
  } as Digest;
  return hash;
}
