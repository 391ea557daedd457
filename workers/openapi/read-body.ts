import { ApiError } from "../errors";

/**
 * Reads a request body as text, counting bytes while it streams in and giving up at `limit`
 * (M4): a body without Content-Length (chunked) is cut at the limit instead of being read whole
 * into memory first. Past the limit: 413 `payload_too_large` in the error envelope.
 * @example const text = await readBodyText(c.req.raw, 1024 * 1024)
 */
export async function readBodyText(request: Request, limit: number): Promise<string> {
  const tooLarge = () => new ApiError("payload_too_large", `Request body exceeds ${limit} bytes`);
  if (Number(request.headers.get("content-length") ?? "0") > limit) throw tooLarge();
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
