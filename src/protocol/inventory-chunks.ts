// A section too large for one frame travels as the slices of its JSON text (`inventory_chunk`
// frames). Splitting and reassembly are pure, shared by the agent (split) and the server (assemble).

/** Encoded bytes of one chunk's `data` on the wire: half the 1 MiB WebSocket message limit. */
export const CHUNK_DATA_BYTES = 512 * 1024;
/** Chunks one section may take: bounds what a node can make the server hold (64 × 512 KiB = 32 MiB). */
export const MAX_CHUNKS = 64;

const encoder = new TextEncoder();
// What the slice costs inside a JSON frame: quotes, escapes and UTF-8.
const wireBytes = (slice: string) => encoder.encode(JSON.stringify(slice)).length;

/**
 * Cuts `text` into slices whose JSON-encoded size is at most `maxBytes` each; joined in order they
 * give `text` back. Never cuts a surrogate pair in two.
 * @example splitText('{"a":1}', 4) // ['{"', 'a"', ':1', '}'] (each at most 4 bytes once quoted and escaped)
 */
export function splitText(text: string, maxBytes = CHUNK_DATA_BYTES): string[] {
  if (maxBytes < 14) throw new RangeError("maxBytes must leave room for one escaped character");
  const slices: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + maxBytes);
    for (let bytes = wireBytes(text.slice(start, end)); bytes > maxBytes && end > start + 1; ) {
      // Shrink in proportion to the excess (escapes and multi-byte characters cost more than one byte).
      const length = end - start;
      end = start + Math.max(1, Math.min(length - 1, Math.floor((length * maxBytes) / bytes)));
      bytes = wireBytes(text.slice(start, end));
    }
    const code = text.charCodeAt(end - 1);
    if (end < text.length && end - start > 1 && code >= 0xd800 && code <= 0xdbff) end--;
    slices.push(text.slice(start, end));
    start = end;
  }
  return slices;
}

/** One received chunk as reassembly sees it. */
export interface Chunk {
  index: number;
  count: number;
  data: string;
}

export type Assembly =
  | { state: "complete"; text: string }
  | { state: "incomplete"; missing: number[] }
  | { state: "inconsistent"; reason: string };

/**
 * Puts a section's chunks back together. A chunk received twice counts once (the copies must be
 * equal); a lost one leaves the section incomplete, with the missing indexes named; chunks that
 * disagree about the count, or two different copies of one index, are inconsistent.
 */
export function assembleChunks(chunks: readonly Chunk[]): Assembly {
  if (chunks.length === 0) return { state: "incomplete", missing: [] };
  const count = chunks[0].count;
  const byIndex = new Map<number, string>();
  for (const chunk of chunks) {
    if (chunk.count !== count) return { state: "inconsistent", reason: "chunks disagree about their count" };
    if (!Number.isInteger(chunk.index) || chunk.index < 0 || chunk.index >= count)
      return { state: "inconsistent", reason: `chunk index ${chunk.index} is outside 0..${count - 1}` };
    const seen = byIndex.get(chunk.index);
    if (seen !== undefined && seen !== chunk.data)
      return { state: "inconsistent", reason: `two different copies of chunk ${chunk.index}` };
    byIndex.set(chunk.index, chunk.data);
  }
  const missing: number[] = [];
  for (let i = 0; i < count; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0) return { state: "incomplete", missing };
  let text = "";
  for (let i = 0; i < count; i++) text += byIndex.get(i);
  return { state: "complete", text };
}
