import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { createTestApi, type TestApi } from "./harness";

// Changes whose audit event is written in the change's own batch: the event lands exactly once with
// the change, a change that found nothing records nothing, and when the audit insert fails the
// change is undone (the database refuses audit inserts through a trigger in this file's own database).
let api: TestApi;
let db: ReturnType<typeof createDatabase>;

beforeAll(async () => {
  api = await createTestApi();
  db = createDatabase({ url: api.env.LIBSQL_URL! });
});

async function eventsFor(event: string, resourceId: string) {
  return db.all<{ success: number; status_code: number }>(
    sql`SELECT success, status_code FROM audit_events WHERE event = ${event} AND resource_id = ${resourceId}`,
  );
}

async function refusingAudit<T>(work: () => Promise<T>): Promise<T> {
  await db.run(
    sql.raw(
      "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit refused'); END",
    ),
  );
  try {
    return await work();
  } finally {
    await db.run(sql.raw("DROP TRIGGER audit_refused"));
  }
}

describe("cluster delete", () => {
  it("writes cluster.deleted once, with the delete", async () => {
    expect((await api.post("/api/v1/clusters", { name: "gone" })).status).toBe(201);
    expect((await api.del("/api/v1/clusters/gone")).status).toBe(204);
    expect(await eventsFor("cluster.deleted", "gone")).toEqual([{ success: 1, status_code: 204 }]);
  });

  it("a failing audit insert undoes the delete", async () => {
    expect((await api.post("/api/v1/clusters", { name: "kept" })).status).toBe(201);
    const res = await refusingAudit(() => api.del("/api/v1/clusters/kept"));
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect((await api.get("/api/v1/clusters/kept")).status).toBe(200);
    expect(await eventsFor("cluster.deleted", "kept")).toEqual([]);
  });
});

describe("webhook delete", () => {
  async function webhook() {
    const res = await api.post("/api/v1/webhooks", {
      url: "https://hooks.example.com/outpost",
      secret: "a-webhook-secret-of-some-length-0123456789",
      subscribed_events: ["edge.node.cluster_changed"],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.data.id as string;
  }

  it("writes webhook.deleted once; an unknown id records nothing", async () => {
    const id = await webhook();
    expect((await api.del(`/api/v1/webhooks/${id}`)).status).toBe(204);
    expect(await eventsFor("webhook.deleted", id)).toEqual([{ success: 1, status_code: 204 }]);
    const ghost = crypto.randomUUID();
    expect((await api.del(`/api/v1/webhooks/${ghost}`)).status).toBe(404);
    expect(await eventsFor("webhook.deleted", ghost)).toEqual([]);
  });

  it("a failing audit insert undoes the delete", async () => {
    const id = await webhook();
    const res = await refusingAudit(() => api.del(`/api/v1/webhooks/${id}`));
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect((await api.get(`/api/v1/webhooks/${id}`)).status).toBe(200);
  });
});
