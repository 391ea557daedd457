import { beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "./harness";

// M4: bodies are limited while they are read. A chunked body (no Content-Length) that never ends
// gets 413 in the error envelope once it passes the limit; read whole first, this would never answer.

let api: TestApi;

/** A body that streams 64 KiB chunks forever, with no Content-Length. */
function endless(): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode(`{"x":"${"a".repeat(64 * 1024)}`);
  return new ReadableStream({
    pull(controller) {
      controller.enqueue(chunk);
    },
  });
}

async function post(path: string, auth: string | null) {
  const res = await api.fetch(path, {
    method: "POST",
    auth,
    headers: { "content-type": "application/json" },
    body: endless(),
    // @ts-expect-error workerd's RequestInit takes a stream body without duplex
    duplex: "half",
  });
  return { status: res.status, body: await res.json<any>() };
}

beforeAll(async () => {
  api = await createTestApi();
});

describe("request bodies are cut at the limit while streamed", () => {
  it("an API route answers 413 in the envelope", async () => {
    const res = await post("/api/v1/clusters", undefined as never);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
    expect(res.body.meta.request_id).toEqual(expect.any(String));
  });

  it("the public enrolment route answers 413", async () => {
    const res = await post("/agent/v1/enroll", null);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
  });
});
