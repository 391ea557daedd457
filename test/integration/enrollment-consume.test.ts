import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { consumeEnrollmentKey } from "../../src/enrollment/consume";
import { decodeKeyBlob } from "../../src/enrollment/key-blob";
import { createTestApi, type TestApi } from "./harness";

let api: TestApi;
let db: ReturnType<typeof createDatabase>;

beforeAll(async () => {
  api = await createTestApi();
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  await api.post("/api/v1/clusters", { name: "fleet" });
});

async function newKey(body: object) {
  const res = await api.post("/api/v1/clusters/fleet/enrollment_keys", body);
  return { id: res.body.data.id as string, secret: decodeKeyBlob(res.body.data.key)!.key };
}

describe("consumeEnrollmentKey", () => {
  it("lets exactly one of 50 concurrent uses of a one-use key through", async () => {
    const { id, secret } = await newKey({});
    const results = await Promise.all(Array.from({ length: 50 }, () => consumeEnrollmentKey(db, secret)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === "spent")).toHaveLength(49);
    const key = (await api.get(`/api/v1/enrollment_keys/${id}`)).body.data;
    expect(key.uses_remaining).toBe(0);
    expect(key.last_used_at).not.toBeNull();
  });

  it("lets exactly N of 30 concurrent uses of an N-use key through", async () => {
    const { secret } = await newKey({ uses_remaining: 7 });
    const results = await Promise.all(Array.from({ length: 30 }, () => consumeEnrollmentKey(db, secret)));
    expect(results.filter((r) => r.ok)).toHaveLength(7);
  });

  it("never runs out on an unlimited key", async () => {
    const { secret } = await newKey({ uses_remaining: null });
    const results = await Promise.all(Array.from({ length: 20 }, () => consumeEnrollmentKey(db, secret)));
    expect(results.every((r) => r.ok && r.usesRemaining === null)).toBe(true);
  });

  it("tells unknown, expired and spent keys apart", async () => {
    expect(await consumeEnrollmentKey(db, "no-such-secret")).toEqual({ ok: false, reason: "unknown" });
    const { id, secret } = await newKey({ uses_remaining: 3 });
    await db.run(sql`UPDATE enrollment_keys SET expired_at = ${Date.now() - 1000} WHERE id = ${id}`);
    expect(await consumeEnrollmentKey(db, secret)).toEqual({ ok: false, reason: "expired" });
  });
});
