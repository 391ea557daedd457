import { createClient } from "@libsql/client/web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeKeyBlob } from "../../src/enrollment/key-blob";
import { createTestApi, type TestApi } from "./harness";

// Review H2: refusing an unknown, expired or spent key must not need libSQL's write lock. The
// proof holds the lock from another connection (an open write transaction) while the refusals
// come in: each must answer at once, not wait on the lock, retry or end in 503.
let api: TestApi;
let spent: string;
let expired: string;

beforeAll(async () => {
  api = await createTestApi();
  expect((await api.post("/api/v1/clusters", { name: "fleet" })).status).toBe(201);
  const key = await api.post("/api/v1/clusters/fleet/enrollment_keys", {});
  spent = decodeKeyBlob(key.body.data.key)?.key ?? "";
  await api.patch(`/api/v1/enrollment_keys/${key.body.data.id}`, { uses_remaining: 1 });
  const used = await enrol(spent);
  expect(used.status).toBe(201);
  const soon = new Date(Date.now() + 1500).toISOString();
  const exp = await api.post("/api/v1/clusters/fleet/enrollment_keys", { expired_at: soon });
  expired = decodeKeyBlob(exp.body.data.key)?.key ?? "";
  await new Promise((r) => setTimeout(r, 1600));
});

async function enrol(key: string) {
  const res = await api.fetch("/agent/v1/enroll", {
    method: "POST",
    auth: null,
    json: {
      key,
      node_id: crypto.randomUUID(),
      id_type: "random",
      hostname: "h",
      platform: "linux",
      version: "1",
    },
  });
  return { status: res.status, body: await res.json<any>() };
}

describe("enrolment refusals while another connection holds the write lock", () => {
  const client = () => createClient({ url: api.env.LIBSQL_URL ?? "" });
  let holder: ReturnType<typeof createClient>;
  afterAll(() => holder?.close());

  it("answer 401 / 403 at once, without a write transaction", async () => {
    holder = client();
    const tx = await holder.transaction("write");
    // A write inside the transaction makes sure the lock is really taken.
    await tx.execute("UPDATE clusters SET updated_at = updated_at");
    try {
      const started = Date.now();
      const answers = await Promise.all([
        enrol("made-up-key-1"),
        enrol("made-up-key-2"),
        enrol(spent),
        enrol(expired),
      ]);
      expect(answers.map((a) => a.status)).toEqual([401, 401, 403, 403]);
      expect(answers.map((a) => a.body.error.code)).toEqual([
        "unauthorized",
        "unauthorized",
        "forbidden",
        "forbidden",
      ]);
      // The busy retries alone (4 tries with jittered pauses) took longer than this.
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await tx.rollback();
    }
  });
});
