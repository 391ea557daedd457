import { createClient } from "@libsql/client/web";
import { beforeAll, describe, expect, it } from "vitest";
import { runCronTick } from "../../workers/cron";
import { as, createUser, PASSWORD } from "./access-fixture";
import { createTestApi, type TestApi } from "./harness";

const SIGNING_KEY = "audit-signing-key-for-tests";
let api: TestApi;
let clusterId: string;
const key = () => as(api, undefined);
beforeAll(async () => {
  api = await createTestApi({ AUDIT_SIGNING_KEY: SIGNING_KEY });
});

describe("writing audit events", () => {
  it("records changes with actor, request and resource, secrets redacted, seq without gaps", async () => {
    const userId = await createUser(api, "audited", ["viewer"]);
    await as(api, null).post("/api/v1/auth/login", { username: "audited", password: "wrong-password" });
    await as(api, null).post("/api/v1/auth/login", { username: "audited", password: PASSWORD });
    clusterId = (await key().post("/api/v1/clusters", { name: "audit-c" })).body.data.id;
    const res = await key().get("/api/v1/audit_events?order_by=seq&order_directions=asc&page_size=100");
    expect(res.status).toBe(200);
    const events = res.body.data;
    expect(events.map((e: any) => e.event)).toEqual([
      "user.created",
      "auth.login_failed",
      "auth.login",
      "cluster.created",
    ]);
    expect(events.map((e: any) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(events[0]).toMatchObject({
      actor_type: "api_key",
      actor_name: "API_KEY",
      method: "POST",
      path: "/api/v1/users",
      status_code: 201,
      success: true,
      resource_type: "user",
      resource_id: userId,
      details: { username: "audited", roles: ["viewer"] },
    });
    expect(events[1]).toMatchObject({ actor_type: "anonymous", actor_name: "audited", success: false });
    expect(events[2]).toMatchObject({ actor_type: "user", actor_name: "audited", success: true });
    expect(events[3]).toMatchObject({ event: "cluster.created", resource_id: clusterId, status_code: 201 });
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
    for (const e of events) expect(e.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(events[1].prev_hash).toBe(events[0].hash);
    expect(events[0].prev_hash).toBeNull();
  });

  it("records refused changes too (a 409 with success false)", async () => {
    await key().post("/api/v1/clusters", { name: "dup-c" });
    await key().post("/api/v1/clusters", { name: "dup-c" });
    const res = await key().get("/api/v1/audit_events?event=cluster.*&success=false");
    expect(res.body.data[0]).toMatchObject({ event: "cluster.created", status_code: 409, success: false });
  });
});

describe("filters", () => {
  it("filters by event wildcard, actor, success, resource and time", async () => {
    const count = async (q: string) =>
      (await key().get(`/api/v1/audit_events?${q}`)).body.meta.pagination.total_count;
    expect(await count("event=auth.*")).toBeGreaterThanOrEqual(2);
    expect(await count("event=auth.login")).toBeGreaterThanOrEqual(1);
    expect(await count("actor_type=anonymous")).toBeGreaterThanOrEqual(1);
    expect(await count("actor_name=audit*")).toBeGreaterThanOrEqual(2);
    expect(await count("success=false&event=auth.*")).toBeGreaterThanOrEqual(1);
    expect(await count(`resource_type=cluster&resource_id=${clusterId}`)).toBe(1);
    expect(await count("occurred_at__gte=2020-01-01&occurred_at__lte=2100-01-01")).toBeGreaterThan(3);
    expect(await count("occurred_at__lte=2020-01-01")).toBe(0);
    expect(await count("seq__gte=2&seq__lte=3")).toBe(2);
    const bad = await key().get("/api/v1/audit_events?success=perhaps");
    expect(bad.status).toBe(400);
  });
});

describe("verification", () => {
  it("verifies one event and the whole chain", async () => {
    const [first] = (await key().get("/api/v1/audit_events?seq__lte=1")).body.data;
    const one = await key().get(`/api/v1/audit_events/${first.id}/verify`);
    expect(one.body.data).toEqual({ available: true, verified: true, message: "Event signature verified" });
    const chain = await key().get("/api/v1/audit_events/verify");
    expect(chain.status).toBe(200);
    expect(chain.body.data).toMatchObject({
      available: true,
      verified: true,
      from_seq: 1,
      first_failure: null,
    });
    expect(chain.body.data.checked).toBeGreaterThan(3);
    expect((await key().get("/api/v1/audit_events/verify?from_seq=1&to_seq=20001")).status).toBe(400);
    expect((await key().get("/api/v1/audit_events/verify?from_seq=x")).status).toBe(400);
    expect((await key().get("/api/v1/audit_events/verify?bogus=1")).status).toBe(400);
  });

  it("detects a row changed directly in the database, and a deleted row", async () => {
    const fresh = await createTestApi({ AUDIT_SIGNING_KEY: SIGNING_KEY });
    const k = as(fresh, undefined);
    for (const name of ["t-one", "t-two", "t-three", "t-four"]) await k.post("/api/v1/clusters", { name });
    const client = createClient({ url: fresh.env.LIBSQL_URL as string });
    try {
      await client.execute("UPDATE audit_events SET actor_name = 'someone-else' WHERE seq = 2");
      const [changed] = (await k.get("/api/v1/audit_events?seq__gte=2&seq__lte=2")).body.data;
      const one = await k.get(`/api/v1/audit_events/${changed.id}/verify`);
      expect(one.body.data.verified).toBe(false);
      expect(one.body.data.message).toContain("changed");
      const chain = await k.get("/api/v1/audit_events/verify?from_seq=1&to_seq=4");
      expect(chain.body.data).toMatchObject({ verified: false, first_failure: { seq: 2 } });

      await client.execute("UPDATE audit_events SET actor_name = 'API_KEY' WHERE seq = 2");
      expect((await k.get("/api/v1/audit_events/verify?from_seq=1&to_seq=4")).body.data.verified).toBe(true);
      await client.execute("DELETE FROM audit_events WHERE seq = 3");
      const gap = await k.get("/api/v1/audit_events/verify?from_seq=1&to_seq=4");
      expect(gap.body.data).toMatchObject({
        verified: false,
        first_failure: { seq: 3, reason: "missing (deleted)" },
      });
    } finally {
      client.close();
    }
  });

  it("answers available: false without AUDIT_SIGNING_KEY (the hash is still checked)", async () => {
    const unsigned = await createTestApi();
    const k = as(unsigned, undefined);
    await k.post("/api/v1/clusters", { name: "nokey" });
    const [event] = (await k.get("/api/v1/audit_events")).body.data;
    expect(event.signature).toBeNull();
    const res = await k.get(`/api/v1/audit_events/${event.id}/verify`);
    expect(res.body.data).toMatchObject({ available: false, verified: true });
    expect((await k.get("/api/v1/audit_events/3f2504e0-4f89-41d3-9a0c-0305e82c3301")).status).toBe(404);
  });
});

describe("export and retention", () => {
  it("exports JSON Lines and CSV", async () => {
    const jsonl = await api.fetch("/api/v1/audit_events/export?format=jsonl");
    expect(jsonl.headers.get("content-type")).toContain("ndjson");
    const lines = (await jsonl.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ seq: 1, event: "user.created" });
    const csv = await api.fetch("/api/v1/audit_events/export?format=csv&from_seq=1&to_seq=2");
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const rows = (await csv.text()).trim().split("\r\n");
    expect(rows[0]).toMatch(/^id,seq,occurred_at,event,/);
    expect(rows).toHaveLength(3);
    expect((await api.fetch("/api/v1/audit_events/export?format=xml")).status).toBe(400);
  });

  it("prunes past AUDIT_RETENTION_DAYS and keeps the chain verifiable through the checkpoint", async () => {
    const fresh = await createTestApi({ AUDIT_SIGNING_KEY: SIGNING_KEY, AUDIT_RETENTION_DAYS: "30" });
    const k = as(fresh, undefined);
    for (const name of ["r-one", "r-two", "r-three"]) await k.post("/api/v1/clusters", { name });
    const client = createClient({ url: fresh.env.LIBSQL_URL as string });
    try {
      // Age the first two events (timestamps are not in the signature's way: re-seal them as if old).
      const old = Date.now() - 40 * 86_400_000;
      await client.execute({
        sql: "UPDATE audit_events SET occurred_at = ?, hash = NULL, signature = NULL, prev_hash = NULL WHERE seq <= 3",
        args: [old],
      });
      await client.execute({
        sql: "UPDATE audit_events SET occurred_at = ? WHERE seq = 3",
        args: [Date.now()],
      });
      await k.get("/api/v1/audit_events/verify");
      const outcome = await runCronTick(fresh.env);
      expect(outcome.audit).toMatchObject({ ok: true, result: { pruned: 2 } });
      const chain = await k.get("/api/v1/audit_events/verify");
      expect(chain.body.data).toMatchObject({ verified: true, from_seq: 3 });
      await k.post("/api/v1/clusters", { name: "r-four" });
      const seqs = (await k.get("/api/v1/audit_events")).body.data.map((e: any) => e.seq);
      expect(seqs).toEqual([4, 3]);
    } finally {
      client.close();
    }
  });
});
