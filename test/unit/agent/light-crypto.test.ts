// The agent's own SHA-1/SHA-256 and random bytes (issue 25) must agree with node:crypto.
import * as nodeCrypto from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import {
  closeRandom,
  createHash,
  LIGHT_HASH_MAX_BYTES,
  randomBytes,
  randomFillSync,
  randomUUID,
  sha1,
  sha256,
} from "../../../agent/light-crypto";

afterAll(closeRandom);

describe("light crypto", () => {
  it("hashes like node:crypto at every length around the block boundaries", () => {
    for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, 65_537]) {
      const data = nodeCrypto.randomBytes(n);
      expect(sha256(data).toString("hex")).toBe(nodeCrypto.createHash("sha256").update(data).digest("hex"));
      expect(sha1(data).toString("hex")).toBe(nodeCrypto.createHash("sha1").update(data).digest("hex"));
    }
    expect(sha256(Buffer.from("abc")).toString("hex")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("createHash takes strings and buffers in parts, and hands large inputs to node:crypto", () => {
    const h = createHash("sha256").update("héllo ").update(Buffer.from("wörld")).digest("hex");
    expect(h).toBe(nodeCrypto.createHash("sha256").update("héllo wörld").digest("hex"));
    const key = "dGhlIHNhbXBsZSBub25jZQ==";
    const guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    expect(
      createHash("sha1")
        .update(key + guid)
        .digest("base64"),
    ).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    const big = nodeCrypto.randomBytes(LIGHT_HASH_MAX_BYTES + 10);
    expect(createHash("sha256").update(big.subarray(0, 10)).update(big.subarray(10)).digest("hex")).toBe(
      nodeCrypto.createHash("sha256").update(big).digest("hex"),
    );
    expect(createHash("md5").update("x").digest("hex")).toBe(
      nodeCrypto.createHash("md5").update("x").digest("hex"),
    );
  });

  it("makes random bytes and version 4 UUIDs", () => {
    expect(randomBytes(32)).toHaveLength(32);
    expect(randomBytes(16).equals(randomBytes(16))).toBe(false);
    const buf = Buffer.alloc(20);
    randomFillSync(buf, 4, 8);
    expect(buf.subarray(0, 4).equals(Buffer.alloc(4)) && buf.subarray(12).equals(Buffer.alloc(8))).toBe(true);
    const ids = new Set(Array.from({ length: 100 }, randomUUID));
    expect(ids.size).toBe(100);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
