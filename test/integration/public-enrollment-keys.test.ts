import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { createLogger } from "../../src/log";
import { pruneEnrollmentKeysJob } from "../../workers/cron/enrollment-keys";
import { createTestApi, type TestApi } from "./harness";

// Review M1: keys from the public endpoint expire, their number is capped, and ended keys are pruned.
let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const PUBLIC = "/api/v1/clusters/default/enrollment_keys/public";

beforeAll(async () => {
  api = await createTestApi({
    PUBLIC_ENROLLMENT_KEY_ENABLED: "true",
    DEFAULT_CLUSTER_NAME: "fleet",
    PUBLIC_ENROLLMENT_KEY_TTL_SECONDS: "600",
    PUBLIC_ENROLLMENT_KEY_MAX_OUTSTANDING: "3",
    ENROLLMENT_KEY_RETENTION_DAYS: "7",
  });
  db = createDatabase({ url: api.env.LIBSQL_URL ?? "" });
  expect((await api.post("/api/v1/clusters", { name: "fleet" })).status).toBe(201);
});

const mint = () => api.fetch(PUBLIC, { method: "POST", auth: null });

describe("public enrollment keys", () => {
  it("expire after PUBLIC_ENROLLMENT_KEY_TTL_SECONDS, and past MAX_OUTSTANDING unused ones answer 429", async () => {
    const before = Date.now();
    const first = await mint();
    expect(first.status).toBe(201);
    const key = (await first.json<any>()).data;
    const expires = Date.parse(key.expired_at);
    expect(expires).toBeGreaterThanOrEqual(before + 599_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 601_000);
    expect((await mint()).status).toBe(201);
    expect((await mint()).status).toBe(201);
    const refused = await mint();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("60");
    expect((await refused.json<any>()).error.code).toBe("rate_limited");
    // A spent key no longer counts.
    await db.run(sql`UPDATE enrollment_keys SET uses_remaining = 0 WHERE id = ${key.id}`);
    expect((await mint()).status).toBe(201);
  });

  it("the cron prunes expired and spent keys of any kind after ENROLLMENT_KEY_RETENTION_DAYS", async () => {
    const made = async () => (await api.post("/api/v1/clusters/fleet/enrollment_keys", {})).body.data.id;
    const [oldExpired, oldSpent, recentSpent, live] = [
      await made(),
      await made(),
      await made(),
      await made(),
    ];
    const eightDaysAgo = Date.now() - 8 * 86_400_000;
    await db.run(sql`UPDATE enrollment_keys SET expired_at = ${eightDaysAgo} WHERE id = ${oldExpired}`);
    await db.run(
      sql`UPDATE enrollment_keys SET uses_remaining = 0, last_used_at = ${eightDaysAgo} WHERE id = ${oldSpent}`,
    );
    await db.run(
      sql`UPDATE enrollment_keys SET uses_remaining = 0, last_used_at = ${Date.now()} WHERE id = ${recentSpent}`,
    );
    const result = (await pruneEnrollmentKeysJob.run(api.env, createLogger())) as { pruned: number };
    expect(result.pruned).toBe(2);
    expect((await api.get(`/api/v1/enrollment_keys/${oldExpired}`)).status).toBe(404);
    expect((await api.get(`/api/v1/enrollment_keys/${oldSpent}`)).status).toBe(404);
    expect((await api.get(`/api/v1/enrollment_keys/${recentSpent}`)).status).toBe(200);
    expect((await api.get(`/api/v1/enrollment_keys/${live}`)).status).toBe(200);
  });
});
