import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MultipartError, multipartBoundary, readMultipartUpload } from "../../src/node-files/multipart";

// The upload's multipart reader over bodies as a real FormData encoder writes them, cut into chunks of
// every awkward size (a delimiter split across chunks must not leak into the file's bytes).

async function encode(parts: [string, string | Uint8Array][]) {
  const form = new FormData();
  for (const [name, value] of parts)
    form.append(name, typeof value === "string" ? value : new File([value], "payload.bin"));
  const request = new Request("http://x/", { method: "POST", body: form });
  const boundary = multipartBoundary(request.headers.get("content-type"));
  return { boundary: boundary as string, bytes: new Uint8Array(await request.arrayBuffer()) };
}

function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return new Uint8Array(Buffer.concat(parts));
}

describe("multipart upload reader", () => {
  it("reads the fields before the file and streams the file byte for byte, whatever the chunking", async () => {
    const file = randomBytes(70_000);
    // The bytes of a delimiter's start inside the file must stay file bytes.
    file.set(Buffer.from("\r\n--"), 1000);
    const { boundary, bytes } = await encode([
      ["dest", "/srv/x.bin"],
      ["overwrite", "true"],
      ["file", file],
    ]);
    for (const size of [1, 7, 64, 4096, 65_536, bytes.length]) {
      const upload = await readMultipartUpload(chunked(bytes, size), boundary, "file");
      expect(upload.fields).toEqual({ dest: "/srv/x.bin", overwrite: "true" });
      const got = await collect(upload.file as ReadableStream<Uint8Array>);
      expect(Buffer.compare(Buffer.from(got), file), `chunks of ${size}`).toBe(0);
    }
  });

  it("has no file when there is none, and errors the file stream when a field follows it", async () => {
    const none = await encode([["dest", "/srv/x"]]);
    const upload = await readMultipartUpload(chunked(none.bytes, 10), none.boundary, "file");
    expect(upload).toEqual({ fields: { dest: "/srv/x" }, file: null });

    const late = await encode([
      ["file", new Uint8Array(10)],
      ["dest", "/srv/x"],
    ]);
    const first = await readMultipartUpload(chunked(late.bytes, 10), late.boundary, "file");
    expect(first.fields).toEqual({});
    await expect(collect(first.file as ReadableStream<Uint8Array>)).rejects.toThrow(/before file/);
  });

  it("refuses a cut body and a body without its boundary", async () => {
    const { boundary, bytes } = await encode([
      ["dest", "/srv/x"],
      ["file", new Uint8Array(5000)],
    ]);
    const cut = await readMultipartUpload(chunked(bytes.subarray(0, 3000), 100), boundary, "file");
    await expect(collect(cut.file as ReadableStream<Uint8Array>)).rejects.toThrow(MultipartError);
    await expect(readMultipartUpload(chunked(bytes, 100), "other-boundary", "file")).rejects.toThrow(
      MultipartError,
    );
    expect(multipartBoundary("application/json")).toBeNull();
    expect(multipartBoundary('multipart/form-data; boundary="abc def"')).toBe("abc def");
  });
});
