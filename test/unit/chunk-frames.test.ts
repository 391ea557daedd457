import { describe, expect, it } from "vitest";
import {
  CHUNK_FRAME_TAG,
  chunkHeaderLength,
  decodeChunkFrame,
  encodeChunkFrame,
} from "../../src/protocol/chunk-frames";

// The binary chunk frame both the Durable Object and the agent read and write (files.v3).

describe("chunk frames", () => {
  it("round-trips a stream id, a seq and the raw bytes, with the header's documented layout", () => {
    const id = crypto.randomUUID();
    const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const frame = encodeChunkFrame(id, 0x01020304, bytes);
    expect(frame.length).toBe(chunkHeaderLength(id) + bytes.length);
    expect([frame[0], frame[1]]).toEqual([CHUNK_FRAME_TAG, 36]);
    expect([...frame.subarray(38, 42)]).toEqual([1, 2, 3, 4]);
    const decoded = decodeChunkFrame(frame.buffer as ArrayBuffer);
    expect(decoded).toEqual({ streamId: id, seq: 0x01020304, bytes });
  });

  it("decodes a view into a larger buffer without copying, and an empty chunk", () => {
    const inner = encodeChunkFrame("u-1", 7, new Uint8Array(0));
    const outer = new Uint8Array(inner.length + 10);
    outer.set(inner, 5);
    const decoded = decodeChunkFrame(outer.subarray(5, 5 + inner.length));
    expect(decoded).toMatchObject({ streamId: "u-1", seq: 7 });
    expect("bytes" in decoded && decoded.bytes.length).toBe(0);
    const big = encodeChunkFrame("u-2", 1, new Uint8Array(100).fill(9));
    const view = decodeChunkFrame(big);
    expect("bytes" in view && view.bytes.buffer).toBe(big.buffer);
  });

  it("refuses what is not a chunk frame, and ids it cannot carry", () => {
    expect(decodeChunkFrame(new Uint8Array([1, 2, 3]))).toHaveProperty("error");
    expect(decodeChunkFrame(new Uint8Array([9, 1, 65, 0, 0, 0, 0]))).toHaveProperty("error");
    expect(decodeChunkFrame(new Uint8Array([1, 0, 0, 0, 0, 0, 0]))).toHaveProperty("error");
    expect(decodeChunkFrame(new Uint8Array([1, 5, 65, 0, 0, 0, 0]))).toHaveProperty("error");
    expect(decodeChunkFrame(new Uint8Array([1, 1, 32, 0, 0, 0, 0]))).toHaveProperty("error");
    expect(() => encodeChunkFrame("", 0, new Uint8Array(1))).toThrow();
    expect(() => encodeChunkFrame("x".repeat(129), 0, new Uint8Array(1))).toThrow();
    expect(() => encodeChunkFrame("é", 0, new Uint8Array(1))).toThrow();
  });
});
