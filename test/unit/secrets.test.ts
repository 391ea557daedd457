import { describe, expect, it } from "vitest";
import {
  constantTimeEqual,
  decryptSecret,
  encryptSecret,
  randomSecret,
  sha256Hex,
} from "../../src/crypto/secrets";
import { decodeKeyBlob, encodeKeyBlob } from "../../src/enrollment/key-blob";

describe("encryptSecret", () => {
  it("round-trips and uses a fresh IV each time", async () => {
    const a = await encryptSecret("hello", "k1");
    const b = await encryptSecret("hello", "k1");
    expect(a).not.toBe(b);
    expect(await decryptSecret(a, "k1")).toBe("hello");
  });

  it("refuses the wrong key and tampered ciphertext", async () => {
    const stored = await encryptSecret("hello", "k1");
    await expect(decryptSecret(stored, "k2")).rejects.toThrow();
    const [v, iv, ct] = stored.split(".");
    const flipped = `${v}.${iv}.${ct.startsWith("A") ? `B${ct.slice(1)}` : `A${ct.slice(1)}`}`;
    await expect(decryptSecret(flipped, "k1")).rejects.toThrow();
  });
});

describe("secrets", () => {
  it("hashes, compares and generates", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await constantTimeEqual("same", "same")).toBe(true);
    expect(await constantTimeEqual("same", "same!")).toBe(false);
    const s = randomSecret(32);
    expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomSecret(32)).not.toBe(s);
  });
});

describe("enrollment key blob", () => {
  it("is base64 JSON with server and key", () => {
    const blob = encodeKeyBlob({ server: "https://outpost.example", key: "s3cret" });
    expect(JSON.parse(Buffer.from(blob, "base64").toString())).toEqual({
      server: "https://outpost.example",
      key: "s3cret",
    });
    expect(decodeKeyBlob(blob)).toEqual({ server: "https://outpost.example", key: "s3cret" });
  });

  it("decodes junk to null", () => {
    expect(decodeKeyBlob("not base64 !!")).toBeNull();
    expect(decodeKeyBlob(Buffer.from('{"server":1}').toString("base64"))).toBeNull();
  });
});
