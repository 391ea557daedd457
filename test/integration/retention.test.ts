import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { pruneOutboxJob } from "../../workers/cron/retention";
import { createTestApi, type TestApi } from "./harness";

// M6: the outbox tables are pruned by the cron (EVENT_RETENTION_DAYS, WEBHOOK_DELIVERY_RETENTION_DAYS,
// 30 days by default). A file of its own database: nothing here involves a Durable Object.

let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const DAY = 86_400_000;

async function ids(table: "events" | "webhook_deliveries" | "webhook_delivery_attempts") {
  const rows = await db.all<{ id: string }>(sql`SELECT id FROM ${sql.identifier(table)} ORDER BY id`);
  return rows.map((r) => r.id);
}

beforeAll(async () => {
  api = await createTestApi();
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  const old = Date.now() - 31 * DAY;
  const recent = Date.now() - DAY;
  await db.run(sql`INSERT INTO webhooks (id, url, secret_ciphertext, subscribed_events, inserted_at, updated_at)
    VALUES ('w', 'https://example.com/hook', 'x', '[]', ${old}, ${old})`);
  const event = (id: string, at: number) =>
    db.run(sql`INSERT INTO events (id, type, occurred_at, data, fanned_out_at)
      VALUES (${id}, 'edge.node.registered', ${at}, '{}', ${at})`);
  const delivery = (id: string, eventId: string, status: string, at: number) =>
    db.run(sql`INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, status, attempts, inserted_at, updated_at)
      VALUES (${id}, 'w', ${eventId}, 'edge.node.registered', ${status}, 1, ${at}, ${at})`);
  const attempt = (id: string, deliveryId: string, at: number) =>
    db.run(sql`INSERT INTO webhook_delivery_attempts (id, delivery_id, attempt, status_code, duration_ms, attempted_at)
      VALUES (${id}, ${deliveryId}, 1, 500, 10, ${at})`);
  await event("e-old", old);
  await event("e-old-pending", old);
  await event("e-old-bare", old);
  await event("e-recent", recent);
  await delivery("d-old-done", "e-old", "failed", old);
  await delivery("d-old-pending", "e-old-pending", "pending", old);
  await delivery("d-recent", "e-recent", "succeeded", recent);
  await attempt("a-old", "d-old-done", old);
  await attempt("a-pending", "d-old-pending", old);
  await attempt("a-recent", "d-recent", recent);
});

describe("cron: prune_outbox", () => {
  it("deletes old events, finished deliveries and their attempts; keeps recent and pending ones", async () => {
    expect(await pruneOutboxJob.run(api.env, undefined as never)).toEqual({
      attempts: 1,
      deliveries: 1,
      events: 2,
    });
    expect(await ids("webhook_delivery_attempts")).toEqual(["a-pending", "a-recent"]);
    expect(await ids("webhook_deliveries")).toEqual(["d-old-pending", "d-recent"]);
    expect(await ids("events")).toEqual(["e-old-pending", "e-recent"]);
    // A second run finds nothing more.
    expect(await pruneOutboxJob.run(api.env, undefined as never)).toEqual({
      attempts: 0,
      deliveries: 0,
      events: 0,
    });
  });
});
