import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { asc, eq, sql } from "drizzle-orm";
import * as v from "valibot";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { events, webhookDeliveries, webhookDeliveryAttempts, webhooks } from "../../src/db/schema";
import type { EventType } from "../../src/events/catalog";
import { recordEvent } from "../../src/events/outbox";
import { EVENT_PAYLOADS } from "../../src/events/payloads";
import worker from "../../workers/index";
import {
  type DispatchOptions,
  retryDelayMs,
  runWebhookDispatch,
} from "../../workers/services/webhook-dispatch";
import type { ReceivedRequest } from "../support/webhook-receiver-setup";
import { enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// The receiver runs in Node (globalSetup): workerd can't listen. It answers by path and checks
// each signature with Node's crypto against the secret these webhooks are created with.
const receiver = inject("webhookReceiver");
let api: TestApi;
let db: ReturnType<typeof createDatabase>;

const NOW_RETRY: DispatchOptions = { retryDelayMs: () => 0 };
const dispatch = (options: DispatchOptions = NOW_RETRY, env = api.env) => runWebhookDispatch(env, options);

async function received(path: string): Promise<ReceivedRequest[]> {
  const res = await fetch(`${receiver.url}/__requests?prefix=${encodeURIComponent(path)}`);
  return res.json();
}

/** A webhook on a fresh receiver path (`/<kind>/<uuid>`), via the API. */
async function hook(kind: string, subscribed: EventType[] = ["edge.node.registered"], extra = {}) {
  const path = `/${kind}/${crypto.randomUUID()}`;
  const res = await api.post("/api/v1/webhooks", {
    url: `${receiver.url}${path}`,
    secret: receiver.secret,
    subscribed_events: subscribed,
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.data.id as string, path };
}

/** Writes an event straight into the outbox, as producers do. */
async function emit(type: EventType = "edge.node.registered", data: Record<string, unknown> = {}) {
  const statement = recordEvent(db, type, { node_id: crypto.randomUUID(), ...data });
  await statement;
  const [row] = await db.select().from(events).orderBy(sql`rowid DESC`).limit(1);
  return row;
}

async function deliveriesOf(webhookId: string) {
  return db.select().from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, webhookId));
}

async function attemptsOf(deliveryId: string) {
  return db
    .select()
    .from(webhookDeliveryAttempts)
    .where(eq(webhookDeliveryAttempts.deliveryId, deliveryId))
    .orderBy(asc(webhookDeliveryAttempts.attemptedAt), asc(webhookDeliveryAttempts.attempt));
}

beforeAll(async () => {
  api = await createTestApi({ WEBHOOK_ALLOW_PRIVATE_IPS: "true" });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
});

// Each test subscribes its own webhooks; old ones (and their deliveries) go so they can't interfere.
afterEach(async () => {
  await db.delete(webhooks);
});

describe("delivery", () => {
  it("POSTs a signed JSON event with the X-Edge headers and the custom headers", async () => {
    const { id, path } = await hook("ok", ["edge.node.registered"], {
      headers: { Authorization: "Bearer receiver-token", "X-Custom": "value" },
    });
    const event = await emit("edge.node.registered", { hostname: "host-ü", cluster_name: "edge" });
    const result = await dispatch();
    expect(result).toMatchObject({
      deliveries_created: 1,
      attempted: 1,
      succeeded: 1,
      retrying: 0,
      failed: 0,
    });

    const [delivery] = await deliveriesOf(id);
    const [request] = await received(path);
    expect(request.method).toBe("POST");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["x-edge-event"]).toBe("edge.node.registered");
    expect(request.headers["x-edge-delivery"]).toBe(delivery.id);
    expect(request.headers["x-edge-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(request.headers.authorization).toBe("Bearer receiver-token");
    expect(request.headers["x-custom"]).toBe("value");
    expect(request.signature_valid).toBe(true);
    const t = Number(/t=(\d+)/.exec(request.headers["x-edge-signature"])![1]);
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(60);
    expect(JSON.parse(request.body)).toEqual({
      id: event.id,
      type: "edge.node.registered",
      occurred_at: new Date(event.occurredAt).toISOString(),
      data: JSON.parse(event.data),
    });

    expect(delivery).toMatchObject({
      status: "succeeded",
      attempts: 1,
      lastStatusCode: 200,
      lastError: null,
    });
    expect(delivery.nextAttemptAt).toBeNull();
    const attempts = await attemptsOf(delivery.id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ attempt: 1, statusCode: 200, error: null });
    expect(attempts[0].durationMs).toBeGreaterThanOrEqual(0);
    const [stored] = await db.select().from(events).where(eq(events.id, event.id));
    expect(stored.fannedOutAt).not.toBeNull();
  });

  it("creates deliveries only for subscribed webhooks, once, however often fan-out runs", async () => {
    const registered = await hook("ok", ["edge.node.registered"]);
    const both = await hook("ok", ["edge.node.status_changed", "edge.node.registered"]);
    const other = await hook("ok", ["edge.command_execution.completed"]);
    const event = await emit("edge.node.status_changed");
    await dispatch();
    await db.update(events).set({ fannedOutAt: null }).where(eq(events.id, event.id));
    await Promise.all([dispatch(), dispatch()]);
    expect(await deliveriesOf(registered.id)).toHaveLength(0);
    expect(await deliveriesOf(other.id)).toHaveLength(0);
    expect(await deliveriesOf(both.id)).toHaveLength(1);
    expect(await received(both.path)).toHaveLength(1);
    expect(await received(registered.path)).toHaveLength(0);
  });

  it("retries a failing receiver: 500, 500, then 200 gives three recorded attempts", async () => {
    const { id, path } = await hook("flaky");
    await emit();
    expect((await dispatch()).retrying).toBe(1);
    expect((await dispatch()).retrying).toBe(1);
    expect((await dispatch()).succeeded).toBe(1);
    expect(await dispatch()).toMatchObject({ attempted: 0 });

    const [delivery] = await deliveriesOf(id);
    expect(delivery).toMatchObject({
      status: "succeeded",
      attempts: 3,
      lastStatusCode: 200,
      lastError: null,
    });
    const attempts = await attemptsOf(delivery.id);
    expect(attempts.map((a) => [a.attempt, a.statusCode, a.error])).toEqual([
      [1, 500, "HTTP 500"],
      [2, 500, "HTTP 500"],
      [3, 200, null],
    ]);
    const requests = await received(path);
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r) => r.headers["x-edge-delivery"]))).toEqual(new Set([delivery.id]));
    expect(requests.every((r) => r.signature_valid)).toBe(true);
  });

  it("stops after WEBHOOK_MAX_ATTEMPTS (3) and marks the delivery failed; the event stays in the outbox", async () => {
    const { id, path } = await hook("down");
    const event = await emit();
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await dispatch());
    expect(results.map((r) => r.attempted)).toEqual([1, 1, 1, 0, 0]);
    expect(results[2].failed).toBe(1);

    const [delivery] = await deliveriesOf(id);
    expect(delivery).toMatchObject({
      status: "failed",
      attempts: 3,
      lastStatusCode: 500,
      lastError: "HTTP 500",
    });
    expect(delivery.nextAttemptAt).toBeNull();
    expect(await attemptsOf(delivery.id)).toHaveLength(3);
    expect(await received(path)).toHaveLength(3);
    const [stored] = await db.select().from(events).where(eq(events.id, event.id));
    expect(stored).toMatchObject({ id: event.id, data: event.data });
  });

  it("honours a lower WEBHOOK_MAX_ATTEMPTS", async () => {
    const strict = await createTestApi({
      LIBSQL_URL: api.env.LIBSQL_URL,
      WEBHOOK_ALLOW_PRIVATE_IPS: "true",
      WEBHOOK_MAX_ATTEMPTS: "2",
    });
    const { id } = await hook("down");
    await emit();
    for (let i = 0; i < 4; i++) await dispatch(NOW_RETRY, strict.env);
    const [delivery] = await deliveriesOf(id);
    expect(delivery).toMatchObject({ status: "failed", attempts: 2, lastError: "HTTP 500" });
    expect(await attemptsOf(delivery.id)).toHaveLength(2);
  });

  it("backs off exponentially with jitter between attempts (times injected, no sleeping)", async () => {
    expect(retryDelayMs(1, () => 0)).toBe(15_000);
    expect(retryDelayMs(1, () => 1)).toBe(30_000);
    expect(retryDelayMs(2, () => 1)).toBe(60_000);
    expect(retryDelayMs(3, () => 0.5)).toBe(90_000);
    expect(retryDelayMs(30, () => 1)).toBe(3_600_000);

    const { id, path } = await hook("down");
    await emit();
    const start = Date.now();
    await dispatch({});
    const [first] = await deliveriesOf(id);
    expect(first.status).toBe("pending");
    expect(first.nextAttemptAt! - start).toBeGreaterThanOrEqual(15_000);
    expect(first.nextAttemptAt! - Date.now()).toBeLessThanOrEqual(30_000);
    expect((await dispatch({})).attempted).toBe(0); // not due yet
    expect(await received(path)).toHaveLength(1);
    const later = first.nextAttemptAt! + 1;
    expect((await dispatch({ now: () => later })).attempted).toBe(1);
    expect(await received(path)).toHaveLength(2);
  });

  it("gives up on a receiver that does not answer within the timeout", async () => {
    const { id } = await hook("slow");
    await emit();
    await dispatch({ ...NOW_RETRY, timeoutMs: 200 });
    const [delivery] = await deliveriesOf(id);
    expect(delivery).toMatchObject({ status: "pending", attempts: 1, lastStatusCode: null });
    expect(delivery.lastError).toBe("timed out after 200 ms");
    const [attempt] = await attemptsOf(delivery.id);
    expect(attempt.statusCode).toBeNull();
    expect(attempt.durationMs).toBeGreaterThanOrEqual(150);
    expect(attempt.durationMs).toBeLessThan(2000);
  });

  it("does not follow redirects (their target never passed the SSRF check)", async () => {
    const { id, path } = await hook("redirect");
    await emit();
    await dispatch();
    const [delivery] = await deliveriesOf(id);
    expect(delivery).toMatchObject({ status: "pending", lastStatusCode: 302, lastError: "HTTP 302" });
    expect(await received(path.replace("/redirect/", "/ok/"))).toHaveLength(0);
  });

  it("never sends the same attempt twice when runners race", async () => {
    const hooks = await Promise.all(Array.from({ length: 6 }, () => hook("ok")));
    await emit();
    const results = await Promise.all([dispatch(), dispatch(), dispatch(), dispatch()]);
    expect(results.reduce((n, r) => n + r.attempted, 0)).toBe(6);
    for (const h of hooks) {
      expect(await received(h.path)).toHaveLength(1);
      const [delivery] = await deliveriesOf(h.id);
      expect(await attemptsOf(delivery.id)).toHaveLength(1);
    }
  });

  it("re-checks the URL at delivery time and fails without sending when it is denied now", async () => {
    const { id, path } = await hook("ok");
    await emit();
    const closed = await createTestApi({
      LIBSQL_URL: api.env.LIBSQL_URL,
      WEBHOOK_ALLOW_PRIVATE_IPS: "false",
    });
    await dispatch(NOW_RETRY, closed.env);
    const [delivery] = await deliveriesOf(id);
    expect(delivery.status).toBe("failed");
    expect(delivery.lastError).toMatch(/^url host "127\.0\.0\.1" is denied/);
    expect(await received(path)).toHaveLength(0);
  });

  it("fails without sending when the secret can't be decrypted (ENCRYPTION_KEY changed)", async () => {
    const { id, path } = await hook("ok");
    await emit();
    const rotated = await createTestApi({
      LIBSQL_URL: api.env.LIBSQL_URL,
      WEBHOOK_ALLOW_PRIVATE_IPS: "true",
      ENCRYPTION_KEY: "another-key",
    });
    await dispatch(NOW_RETRY, rotated.env);
    const [delivery] = await deliveriesOf(id);
    expect(delivery).toMatchObject({
      status: "failed",
      lastError: "cannot decrypt the webhook's secret or headers",
    });
    expect(await received(path)).toHaveLength(0);
  });
});

describe("dispatch triggers", () => {
  it("delivers right after an API write that records events (no cron needed)", async () => {
    const { path } = await hook("ok", ["edge.node.registered", "edge.enrollment_key.verified"]);
    expect((await api.post("/api/v1/clusters", { name: "hooked" })).status).toBe(201);
    const { nodeId } = await enrolNode(api, "hooked");
    const requests = await received(path);
    const bodies = requests.map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => b.type).sort()).toEqual([
      "edge.enrollment_key.verified",
      "edge.node.registered",
    ]);
    expect(bodies.find((b) => b.type === "edge.node.registered").data).toMatchObject({
      node_id: nodeId,
      cluster_name: "hooked",
      hostname: "host-a",
      version: "1.2.3",
    });
    expect(requests.every((r) => r.signature_valid)).toBe(true);
    // What producers write matches the payload schemas the AsyncAPI document publishes.
    for (const body of bodies) v.parse(EVENT_PAYLOADS[body.type as EventType], body.data);
  });

  it("delivers from the cron tick (events written outside a request, e.g. by the NodeSession)", async () => {
    const { path } = await hook("ok", ["edge.node.status_changed"]);
    await emit("edge.node.status_changed", { from: "healthy", to: "unreachable" });
    expect(await received(path)).toHaveLength(0);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), api.env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await received(path)).toHaveLength(1);
  });
});

describe("GET /api/v1/webhooks/{id}/deliveries and redeliver", () => {
  it("lists deliveries with their attempts, filters them, and redelivers keeping history", async () => {
    const down = await hook("down", ["edge.node.registered", "edge.node.status_changed"]);
    await emit("edge.node.registered");
    await emit("edge.node.status_changed");
    for (let i = 0; i < 3; i++) await dispatch();

    const list = await api.get(`/api/v1/webhooks/${down.id}/deliveries`);
    expect(list.status).toBe(200);
    expect(list.body.meta.pagination.total_count).toBe(2);
    const [item] = list.body.data;
    expect(Object.keys(item).sort()).toEqual([
      "attempt_count",
      "attempts",
      "event_id",
      "event_type",
      "id",
      "inserted_at",
      "last_error",
      "last_status_code",
      "next_attempt_at",
      "status",
      "updated_at",
      "webhook_id",
    ]);
    expect(item).toMatchObject({
      webhook_id: down.id,
      status: "failed",
      attempt_count: 3,
      next_attempt_at: null,
    });
    expect(
      item.attempts.map((a: { attempt: number; status_code: number }) => [a.attempt, a.status_code]),
    ).toEqual([
      [1, 500],
      [2, 500],
      [3, 500],
    ]);
    expect(Object.keys(item.attempts[0]).sort()).toEqual([
      "attempt",
      "attempted_at",
      "duration_ms",
      "error",
      "status_code",
    ]);

    const filtered = await api.get(
      `/api/v1/webhooks/${down.id}/deliveries?event_type=edge.node.status_changed`,
    );
    expect(filtered.body.data.map((d: { event_type: string }) => d.event_type)).toEqual([
      "edge.node.status_changed",
    ]);
    expect((await api.get(`/api/v1/webhooks/${down.id}/deliveries?status=pending`)).body.data).toEqual([]);
    expect(
      (await api.get(`/api/v1/webhooks/${down.id}/deliveries?status=failed&attempt_count__gte=3`)).body.data,
    ).toHaveLength(2);
    expect(
      (await api.get(`/api/v1/webhooks/${down.id}/deliveries?inserted_at__gte=2999-01-01`)).body.data,
    ).toEqual([]);
    const bad = await api.get(`/api/v1/webhooks/${down.id}/deliveries?status=lost`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.status).toEqual(["must be one of: pending, succeeded, failed"]);

    // Redeliver: pending again with a fresh budget; the write's own dispatch sends it at once.
    const target = filtered.body.data[0];
    const res = await api.post(`/api/v1/webhooks/${down.id}/deliveries/${target.id}/redeliver`);
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ id: target.id, status: "pending", attempt_count: 0 });
    expect(res.body.data.attempts).toHaveLength(3);
    const after = (
      await api.get(`/api/v1/webhooks/${down.id}/deliveries?event_type=edge.node.status_changed`)
    ).body.data[0];
    expect(after).toMatchObject({ status: "pending", attempt_count: 1, last_status_code: 500 });
    expect(after.attempts.map((a: { attempt: number }) => a.attempt)).toEqual([1, 2, 3, 1]);
    expect(await received(down.path)).toHaveLength(7);
  });

  it("answers 404 for an unknown webhook or a delivery of another webhook", async () => {
    const a = await hook("ok");
    const b = await hook("ok");
    await emit();
    await dispatch();
    const [delivery] = await deliveriesOf(a.id);
    const unknown = crypto.randomUUID();
    expect((await api.get(`/api/v1/webhooks/${unknown}/deliveries`)).status).toBe(404);
    const cross = await api.post(`/api/v1/webhooks/${b.id}/deliveries/${delivery.id}/redeliver`);
    expect(cross.status).toBe(404);
    expect(cross.body.error.message).toBe("Webhook delivery not found");
    expect((await api.post(`/api/v1/webhooks/${a.id}/deliveries/${unknown}/redeliver`)).status).toBe(404);
  });

  it("drops a webhook's deliveries with it", async () => {
    const { id } = await hook("ok");
    await emit();
    await dispatch();
    const [delivery] = await deliveriesOf(id);
    expect((await api.del(`/api/v1/webhooks/${id}`)).status).toBe(204);
    expect(await deliveriesOf(id)).toHaveLength(0);
    expect(await attemptsOf(delivery.id)).toHaveLength(0);
  });
});
