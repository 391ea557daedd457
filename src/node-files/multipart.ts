// A streaming reader of one multipart/form-data upload: the text fields are read into memory (small,
// capped), the file part is handed on as a stream, so an upload of any size holds only the chunk at
// hand and a delimiter's length of look-behind. `request.formData()` would hold the whole file.

import { releaseBuffer } from "./release-buffer";

/** The body is not the multipart upload it claims to be; the message says why (a 400). */
export class MultipartError extends Error {}

/** The text fields that came before the file part, and the file's bytes (null: there was none). */
export interface MultipartUpload {
  fields: Record<string, string>;
  file: ReadableStream<Uint8Array> | null;
}

const HEADER_END = new Uint8Array([13, 10, 13, 10]);
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_FIELD_BYTES = 16 * 1024;
const MAX_FIELDS = 32;

/** The boundary of a `multipart/form-data` Content-Type, or null. */
export function multipartBoundary(contentType: string | null): string | null {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) return null;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : null;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  const last = haystack.length - needle.length;
  for (let i = haystack.indexOf(first, from); i !== -1 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A byte buffer over a stream's reader: bytes are pulled only when the parser needs more. */
class Bytes {
  buf: Uint8Array = new Uint8Array(0);
  done = false;
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  async more(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.reader.read();
    if (next.done) {
      this.done = true;
      return false;
    }
    const grown = concat(this.buf, next.value);
    // What concat copied is read no more (the file's bytes leave as copies): free it now, not at
    // the next garbage collection, which a large upload outpaces (./release-buffer).
    if (grown !== next.value) {
      releaseBuffer(this.buf.buffer);
      releaseBuffer(next.value.buffer);
    }
    this.buf = grown;
    return true;
  }

  /** Until `needle` is buffered (its index) or `limit` bytes are buffered without it (-1). */
  async find(needle: Uint8Array, limit: number): Promise<number> {
    for (;;) {
      const at = indexOf(this.buf, needle);
      if (at !== -1) return at;
      if (this.buf.length > limit) return -1;
      if (!(await this.more())) throw new MultipartError("the multipart body ends early");
    }
  }

  take(n: number): Uint8Array {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  async need(n: number): Promise<void> {
    while (this.buf.length < n)
      if (!(await this.more())) throw new MultipartError("the multipart body ends early");
  }

  cancel(reason?: unknown): Promise<void> {
    return this.reader.cancel(reason).catch(() => undefined);
  }
}

function partName(headers: string): { name: string; filename: string | null } {
  const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(headers);
  if (!disposition) throw new MultipartError("a part has no Content-Disposition: form-data");
  const param = (key: string) =>
    new RegExp(`;\\s*${key}="([^"]*)"`, "i").exec(disposition[1])?.[1] ??
    new RegExp(`;\\s*${key}=([^;\\s]+)`, "i").exec(disposition[1])?.[1] ??
    null;
  const name = param("name");
  if (name === null) throw new MultipartError("a part has no name");
  return { name, filename: param("filename") };
}

/**
 * After a delimiter: `--` ends the body (true), CRLF starts another part (false).
 */
async function afterDelimiter(bytes: Bytes): Promise<boolean> {
  await bytes.need(2);
  const two = bytes.take(2);
  if (two[0] === 45 && two[1] === 45) return true;
  if (two[0] === 13 && two[1] === 10) return false;
  throw new MultipartError("a multipart delimiter is followed by neither CRLF nor --");
}

/**
 * Reads a multipart upload up to its `fileField` part and returns the fields before it and the file
 * as a stream that ends at the part's closing delimiter. Fields after the file part cannot be used
 * without holding the file, so the file stream errors if one follows (a 400 for the caller).
 * @example const { fields, file } = await readMultipartUpload(request.body, boundary, "file")
 */
export async function readMultipartUpload(
  body: ReadableStream<Uint8Array>,
  boundary: string,
  fileField: string,
): Promise<MultipartUpload> {
  const encoder = new TextEncoder();
  const opening = encoder.encode(`--${boundary}`);
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  const bytes = new Bytes(body.getReader());
  const fields: Record<string, string> = {};
  try {
    const first = await bytes.find(opening, MAX_HEADER_BYTES);
    if (first === -1) throw new MultipartError("no multipart boundary found");
    bytes.take(first + opening.length);
    if (await afterDelimiter(bytes)) return { fields, file: null };
    for (let parts = 0; ; parts++) {
      if (parts > MAX_FIELDS) throw new MultipartError(`more than ${MAX_FIELDS} fields`);
      const end = await bytes.find(HEADER_END, MAX_HEADER_BYTES);
      if (end === -1) throw new MultipartError("a part's headers are too long");
      const { name } = partName(new TextDecoder().decode(bytes.take(end)));
      bytes.take(HEADER_END.length);
      if (name === fileField) return { fields, file: fileStream(bytes, delimiter) };
      const at = await bytes.find(delimiter, MAX_FIELD_BYTES + delimiter.length);
      if (at === -1) throw new MultipartError(`the field ${name} is longer than ${MAX_FIELD_BYTES} bytes`);
      fields[name] = new TextDecoder().decode(bytes.take(at));
      bytes.take(delimiter.length);
      if (await afterDelimiter(bytes)) return { fields, file: null };
    }
  } catch (error) {
    await bytes.cancel();
    throw error;
  }
}

/** The file part's bytes up to the next delimiter, keeping back what could be a delimiter's start. */
function fileStream(bytes: Bytes, delimiter: Uint8Array): ReadableStream<Uint8Array> {
  let finished = false;
  return new ReadableStream<Uint8Array>(
    {
      pull: async (controller) => {
        try {
          for (;;) {
            if (finished) {
              // Only the epilogue may follow the closing delimiter; another part is a field too late.
              if (!(await afterDelimiter(bytes)))
                throw new MultipartError(
                  "fields after the file part are not read: send dest, mode, overwrite and create_dirs before file",
                );
              controller.close();
              await bytes.cancel();
              return;
            }
            const at = indexOf(bytes.buf, delimiter);
            if (at !== -1) {
              if (at > 0) controller.enqueue(bytes.take(at).slice());
              bytes.take(delimiter.length);
              finished = true;
              if (at > 0) return;
              continue;
            }
            const safe = bytes.buf.length - (delimiter.length - 1);
            if (safe > 0) {
              controller.enqueue(bytes.take(safe).slice());
              return;
            }
            if (!(await bytes.more()))
              throw new MultipartError("the multipart body ends inside the file part");
          }
        } catch (error) {
          controller.error(error);
          await bytes.cancel(error);
        }
      },
      cancel: (reason) => bytes.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
