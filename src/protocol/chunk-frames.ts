// File bytes on the agent socket (issue 20, `files.v3`): binary WebSocket messages with a small
// header, so a chunk is neither base64-encoded, JSON-parsed nor copied into a string on either side.
// Control (start, credits, end, errors) stays in the JSON frames of ./rpc-frames.ts.
//
//   byte 0          CHUNK_FRAME_TAG (1): a stream's chunk
//   byte 1          n, the length of the stream id (1–128)
//   bytes 2…2+n     the stream id (ASCII: a download's `stream_id`, an upload's `upload_id`)
//   4 bytes         seq, unsigned big-endian, from 0 in each stream
//   the rest        the chunk's raw bytes
//
// Downloads flow agent → server (`files.read`), uploads server → agent (`files.write_open`).

/** The first byte of a chunk frame; other values are reserved for later binary frame kinds. */
export const CHUNK_FRAME_TAG = 1;

const MAX_ID_BYTES = 128;

/** One decoded chunk frame; `bytes` is a view into the message, not a copy. */
export interface ChunkFrame {
  streamId: string;
  seq: number;
  bytes: Uint8Array;
}

/** The header's length for `streamId` (ASCII). */
export function chunkHeaderLength(streamId: string): number {
  return 2 + streamId.length + 4;
}

/**
 * Writes the header for `streamId`/`seq` at the start of `frame` and returns where the bytes go.
 * Lets a sender read the chunk straight into the frame (one buffer, no copy).
 */
export function writeChunkHeader(frame: Uint8Array, streamId: string, seq: number): number {
  if (streamId.length < 1 || streamId.length > MAX_ID_BYTES || !/^[\x21-\x7e]+$/.test(streamId))
    throw new Error("a chunk's stream id is 1–128 printable ASCII characters");
  frame[0] = CHUNK_FRAME_TAG;
  frame[1] = streamId.length;
  for (let i = 0; i < streamId.length; i++) frame[2 + i] = streamId.charCodeAt(i);
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(2 + streamId.length, seq >>> 0);
  return chunkHeaderLength(streamId);
}

/**
 * The binary message carrying `bytes` as chunk `seq` of `streamId`.
 * @example encodeChunkFrame("3f2a…", 0, bytes) // Uint8Array [1, 36, …id, 0, 0, 0, 0, …bytes]
 */
export function encodeChunkFrame(streamId: string, seq: number, bytes: Uint8Array): Uint8Array {
  const frame = new Uint8Array(chunkHeaderLength(streamId) + bytes.length);
  frame.set(bytes, writeChunkHeader(frame, streamId, seq));
  return frame;
}

/** A binary message as a chunk frame, or why it is not one (the receiver answers `invalid_frame`). */
export function decodeChunkFrame(message: ArrayBuffer | Uint8Array): ChunkFrame | { error: string } {
  const frame = message instanceof Uint8Array ? message : new Uint8Array(message);
  if (frame.length < 7) return { error: "a binary frame is shorter than a chunk header" };
  if (frame[0] !== CHUNK_FRAME_TAG) return { error: `unknown binary frame kind ${frame[0]}` };
  const n = frame[1];
  if (n < 1 || n > MAX_ID_BYTES || frame.length < 2 + n + 4)
    return { error: "a chunk frame's stream id is malformed" };
  let streamId = "";
  for (let i = 0; i < n; i++) {
    const c = frame[2 + i];
    if (c < 0x21 || c > 0x7e) return { error: "a chunk frame's stream id is not printable ASCII" };
    streamId += String.fromCharCode(c);
  }
  const seq = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(2 + n);
  return { streamId, seq, bytes: frame.subarray(2 + n + 4) };
}
