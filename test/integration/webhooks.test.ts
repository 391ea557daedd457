import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { decryptSecret } from "../../src/crypto/secrets";
import { createDatabase } from "../../src/db/client";
import { webhooks } from "../../src/db/schema";
import { EVENT_TYPES } from "../../src/events/catalog";
import { createTestApi, type TestApi } from "./harness";

// No Durable Object is involved, so this file has a database namespace of its own.
let api: TestApi;
let db: ReturnType<typeof createDatabase>;

const SECRET = "a-cryptographically-random-32-byte-secret";
const HEADER_VALUE = "Bearer xoxb-write-only-token";
const valid = (overrides: Record<string, unknown> = {}) => ({
  url: "https://example.com/edge-events",
  secret: SECRET,
  subscribed_events: ["edge.node.registered", "edge.command_execution.completed"],
  ...overrides,
});

async function expect422(body: unknown, field: string, message?: string | RegExp) {
  const res = await api.post("/api/v1/webhooks", body);
  expect(res.status, JSON.stringify(res.body)).toBe(422);
  expect(res.body.error.code).toBe("validation_failed");
  expect(res.body.error.message).toBe("Validation failed");
  expect(Object.keys(res.body.error.details)).toContain(field);
  if (message) expect(res.body.error.details[field].join(" | ")).toMatch(message);
  return res.body.error.details;
}

beforeAll(async () => {
  api = await createTestApi();
  db = createDatabase({ url: api.env.LIBSQL_URL! });
});

describe("POST /api/v1/webhooks", () => {
  it("creates a webhook and answers with exactly the contract's fields", async () => {
    const res = await api.post("/api/v1/webhooks", valid({ headers: { Authorization: HEADER_VALUE } }));
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(["data", "meta"]);
    expect(Object.keys(res.body.data).sort()).toEqual([
      "id",
      "inserted_at",
      "subscribed_events",
      "updated_at",
      "url",
    ]);
    expect(res.body.data).toMatchObject({
      url: "https://example.com/edge-events",
      subscribed_events: ["edge.node.registered", "edge.command_execution.completed"],
    });
    expect(res.body.data.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(res.body.data.inserted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(res.body.data.updated_at).toBe(res.body.data.inserted_at);
  });

  it("stores secret and headers encrypted, and never returns them", async () => {
    const res = await api.post("/api/v1/webhooks", valid({ headers: { Authorization: HEADER_VALUE } }));
    const id = res.body.data.id;
    const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id));
    expect(row.secretCiphertext).not.toContain(SECRET);
    expect(row.headersCiphertext).not.toContain(HEADER_VALUE);
    expect(await decryptSecret(row.secretCiphertext, api.env.ENCRYPTION_KEY!)).toBe(SECRET);
    expect(JSON.parse(await decryptSecret(row.headersCiphertext!, api.env.ENCRYPTION_KEY!))).toEqual({
      Authorization: HEADER_VALUE,
    });
    const answers = [
      res,
      await api.get(`/api/v1/webhooks/${id}`),
      await api.get("/api/v1/webhooks?page_size=100"),
      await api.get(`/api/v1/webhooks/${id}/deliveries`),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(answer === res ? 201 : 200);
      const text = JSON.stringify(answer.body);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(HEADER_VALUE);
      expect(text).not.toMatch(/"(secret|headers)"/);
    }
  });

  it("stores no header ciphertext when headers are absent or empty", async () => {
    for (const body of [valid(), valid({ headers: {} })]) {
      const res = await api.post("/api/v1/webhooks", body);
      expect(res.status).toBe(201);
      const [row] = await db.select().from(webhooks).where(eq(webhooks.id, res.body.data.id));
      expect(row.headersCiphertext).toBeNull();
    }
  });

  it("removes duplicate subscribed_events, keeping the first order", async () => {
    const res = await api.post(
      "/api/v1/webhooks",
      valid({
        subscribed_events: ["edge.node.status_changed", "edge.node.registered", "edge.node.status_changed"],
      }),
    );
    expect(res.status).toBe(201);
    expect(res.body.data.subscribed_events).toEqual(["edge.node.status_changed", "edge.node.registered"]);
  });

  it("accepts every catalog event type at the entry limit with duplicates", async () => {
    const limit = Math.max(20, EVENT_TYPES.length);
    const full = [...EVENT_TYPES, ...EVENT_TYPES.slice(0, limit - EVENT_TYPES.length)];
    expect(full).toHaveLength(limit);
    const res = await api.post("/api/v1/webhooks", valid({ subscribed_events: full }));
    expect(res.status).toBe(201);
    expect(res.body.data.subscribed_events).toEqual([...EVENT_TYPES]);
  });

  it("names every missing required field", async () => {
    const res = await api.post("/api/v1/webhooks", {});
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.error.details).sort()).toEqual(["secret", "subscribed_events", "url"]);
  });

  it("refuses unknown fields (webhooks have no other settings)", async () => {
    await expect422(valid({ max_attempts: 5 }), "max_attempts");
  });

  it("needs an API key", async () => {
    const res = await api.fetch("/api/v1/webhooks", { method: "POST", json: valid(), auth: null });
    expect(res.status).toBe(401);
  });
});

describe("POST /api/v1/webhooks: url", () => {
  it.each([
    [123, "must be a string"],
    ["", "can't be blank"],
    ["/relative/path", "must be an absolute http(s) URL"],
    ["example.com/hook", "must be an absolute http(s) URL"],
    ["ftp://example.com/hook", "must be an absolute http(s) URL"],
    ["HTTPS://example.com/", "must be an absolute http(s) URL"],
    ["https://", "must be an absolute http(s) URL"],
    ["https:// example.com/", "must not contain whitespace"],
    ["https://user:pass@example.com/", "must not contain credentials"],
    [`https://example.com/${"a".repeat(2029)}`, "must be at most 2048 characters"],
  ])("refuses %j", async (url, message) => {
    await expect422(valid({ url }), "url", message);
  });

  it("accepts exactly 2048 characters", async () => {
    const url = `https://example.com/${"a".repeat(2028)}`;
    expect(url.length).toBe(2048);
    const res = await api.post("/api/v1/webhooks", valid({ url }));
    expect(res.status).toBe(201);
    expect(res.body.data.url).toBe(url);
  });

  it.each([
    ["http://127.0.0.1:8080/hook", "127.0.0.1", /loopback/],
    ["http://2130706433/", "127.0.0.1", /loopback/],
    ["http://0x7f.1/", "127.0.0.1", /loopback/],
    ["http://[::1]/", "[::1]", /loopback/],
    ["http://10.0.0.5/", "10.0.0.5", /RFC 1918/],
    ["http://172.20.1.1/", "172.20.1.1", /RFC 1918/],
    ["http://192.168.1.10/", "192.168.1.10", /RFC 1918/],
    ["http://169.254.169.254/latest/meta-data/", "169.254.169.254", /metadata/],
    ["http://169.254.10.10/", "169.254.10.10", /link-local/],
    ["http://[fe80::1]/", "[fe80::1]", /link-local/],
    ["http://100.64.1.1/", "100.64.1.1", /carrier-grade NAT/],
    ["http://[fd00::1]/", "[fd00::1]", /unique local/],
    ["http://0.0.0.0/", "0.0.0.0", /unspecified/],
    ["http://[::]/", "[::]", /unspecified/],
    ["http://[::ffff:192.168.0.1]/", "[::ffff:c0a8:1]", /RFC 1918/],
    ["http://localhost:3000/", "localhost", /localhost/],
    ["http://api.localhost/", "api.localhost", /localhost/],
    ["http://metadata.google.internal/", "metadata.google.internal", /metadata/],
    ["http://metadata/", "metadata", /metadata/],
  ])("SSRF: refuses %s", async (url, host, reason) => {
    const details = await expect422(valid({ url }), "url");
    expect(details.url[0]).toContain(`host "${host}" is denied`);
    expect(details.url[0]).toMatch(reason);
    expect(details.url[0]).toContain("WEBHOOK_ALLOW_PRIVATE_IPS=true");
  });

  it("SSRF: allows private destinations when WEBHOOK_ALLOW_PRIVATE_IPS=true", async () => {
    const open = await createTestApi({ LIBSQL_URL: api.env.LIBSQL_URL, WEBHOOK_ALLOW_PRIVATE_IPS: "true" });
    for (const url of ["http://127.0.0.1:8080/hook", "http://169.254.169.254/", "http://localhost/"]) {
      const res = await open.post("/api/v1/webhooks", valid({ url }));
      expect(res.status, url).toBe(201);
      await open.del(`/api/v1/webhooks/${res.body.data.id}`);
    }
  });
});

describe("POST /api/v1/webhooks: secret", () => {
  it.each([
    ["x".repeat(31), "must be at least 32 bytes"],
    ["x".repeat(257), "must be at most 256 bytes"],
    ["é".repeat(129), "must be at most 256 bytes"], // 129 characters, 258 bytes
    [123456789, "must be a string"],
  ])("refuses %j", async (secret, message) => {
    await expect422(valid({ secret }), "secret", message);
  });

  it.each([
    ["x".repeat(32), "32 ASCII bytes"],
    ["x".repeat(256), "256 ASCII bytes"],
    ["é".repeat(16), "16 characters, 32 bytes"],
    ["é".repeat(128), "128 characters, 256 bytes"],
  ])("accepts %#: %s", async (secret) => {
    expect((await api.post("/api/v1/webhooks", valid({ secret }))).status).toBe(201);
  });
});

describe("POST /api/v1/webhooks: headers", () => {
  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`X-H${i}`, "v"]));

  it("accepts 20 entries and 4096-character values", async () => {
    expect((await api.post("/api/v1/webhooks", valid({ headers: many(20) }))).status).toBe(201);
    const res = await api.post("/api/v1/webhooks", valid({ headers: { "X-Long": "v".repeat(4096) } }));
    expect(res.status).toBe(201);
  });

  it("refuses a 21st entry", async () => {
    await expect422(valid({ headers: many(21) }), "headers", "must have at most 20 entries");
  });

  it("refuses a value over 4096 characters", async () => {
    await expect422(
      valid({ headers: { "X-Long": "v".repeat(4097) } }),
      "headers.X-Long",
      "must be at most 4096 characters",
    );
  });

  it.each(["Bad Header", "X-Ünïcode", "X:Colon", ""])("refuses the header name %j", async (name) => {
    await expect422(
      valid({ headers: { [name]: "v" } }),
      `headers.${name}`,
      "must be a valid HTTP header name",
    );
  });

  it.each([
    "Host",
    "content-length",
    "Content-Type",
    "Transfer-Encoding",
    "Connection",
    "Upgrade",
    "X-Edge-Signature",
    "x-edge-event",
    "X-Edge-Anything",
    "CF-Connecting-IP",
  ])("refuses the reserved header %s", async (name) => {
    await expect422(valid({ headers: { [name]: "v" } }), `headers.${name}`, "is reserved");
  });

  it("refuses the same name twice in different case", async () => {
    await expect422(valid({ headers: { "X-Token": "a", "x-token": "b" } }), "headers", "must not repeat");
  });

  it.each([
    ["line\nbreak", "control characters"],
    ["nul\u0000", "control characters"],
    ["emoji 😀", "beyond U+00FF"],
  ])("refuses the value %j", async (value, message) => {
    await expect422(valid({ headers: { "X-Bad": value } }), "headers.X-Bad", message);
  });

  it.each([
    [{ "X-Num": 1 }, "headers.X-Num", "must be a string"],
    [["X-A", "b"], "headers", "must be an object"],
    ["X-A: b", "headers", "must be an object"],
  ])("refuses %j", async (headers, field, message) => {
    await expect422(valid({ headers }), field, message);
  });
});

describe("POST /api/v1/webhooks: subscribed_events", () => {
  it("refuses an empty list", async () => {
    await expect422(valid({ subscribed_events: [] }), "subscribed_events", "at least 1");
  });

  it("refuses more entries than the limit (20, or the catalog's size when larger)", async () => {
    const limit = Math.max(20, EVENT_TYPES.length);
    const list = Array.from({ length: limit + 1 }, () => "edge.node.registered");
    await expect422(valid({ subscribed_events: list }), "subscribed_events", `at most ${limit}`);
  });

  it("names exactly the unknown event types", async () => {
    const details = await expect422(
      valid({ subscribed_events: ["edge.node.registered", "edge.node.*", "edge.bogus", "edge.bogus"] }),
      "subscribed_events",
    );
    expect(details.subscribed_events).toEqual([
      "contains unknown event types: edge.node.*, edge.bogus (see GET /api/v1/event_types)",
    ]);
  });

  it.each([
    ["edge.node.registered", "subscribed_events", "must be an array"],
    [[42], "subscribed_events.0", "must be a string"],
  ])("refuses %j", async (subscribed_events, field, message) => {
    await expect422(valid({ subscribed_events }), field, message);
  });
});

describe("GET /api/v1/webhooks", () => {
  let lister: TestApi;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    lister = await createTestApi();
    const make = async (name: string, url: string, events: string[]) => {
      const res = await lister.post("/api/v1/webhooks", valid({ url, subscribed_events: events }));
      expect(res.status).toBe(201);
      ids[name] = res.body.data.id;
    };
    await make("alpha", "https://alpha.example.com/hooks/edge", ["edge.node.registered"]);
    await make("beta", "https://beta.example.org/edge", ["edge.node.registered", "edge.node.status_changed"]);
    await make("gamma", "https://gamma.example.com/other", ["edge.command_execution.completed"]);
  });

  const listIds = async (query: string) => {
    const res = await lister.get(`/api/v1/webhooks${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data.map((w: { id: string }) => w.id);
  };

  it("pages in insertion order with the contract's pagination block", async () => {
    const res = await lister.get("/api/v1/webhooks?page_size=2");
    expect(res.body.data.map((w: { id: string }) => w.id)).toEqual([ids.alpha, ids.beta]);
    expect(res.body.meta.pagination).toEqual({
      has_next: true,
      has_prev: false,
      next_page: 2,
      page: 1,
      page_size: 2,
      prev_page: null,
      total_count: 3,
      total_pages: 2,
    });
  });

  it("filters by event_type (webhooks subscribed to it)", async () => {
    expect(await listIds("?event_type=edge.node.registered")).toEqual([ids.alpha, ids.beta]);
    expect(await listIds("?event_type=edge.node.status_changed")).toEqual([ids.beta]);
    expect(await listIds("?event_type=edge.node.cluster_changed")).toEqual([]);
  });

  it("refuses an unknown event_type with 400", async () => {
    const res = await lister.get("/api/v1/webhooks?event_type=edge.node.*");
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("bad_request");
    expect(res.body.error.details.event_type).toEqual([
      "must be a known event type (GET /api/v1/event_types)",
    ]);
  });

  it("filters by url: exact, prefix, suffix and substring wildcards", async () => {
    expect(await listIds("?url=https://beta.example.org/edge")).toEqual([ids.beta]);
    expect(await listIds("?url=https://beta.example.org")).toEqual([]);
    expect(await listIds(`?url=${encodeURIComponent("https://alpha*")}`)).toEqual([ids.alpha]);
    expect(await listIds(`?url=${encodeURIComponent("*/edge")}`)).toEqual([ids.alpha, ids.beta]);
    expect(await listIds(`?url=${encodeURIComponent("*example.com*")}`)).toEqual([ids.alpha, ids.gamma]);
  });

  it("combines filters and sorts by url", async () => {
    expect(await listIds(`?event_type=edge.node.registered&url=${encodeURIComponent("*.com*")}`)).toEqual([
      ids.alpha,
    ]);
    expect(await listIds("?order_by=url&order_directions=desc")).toEqual([ids.gamma, ids.beta, ids.alpha]);
  });

  it("filters by inserted_at and updated_at ranges", async () => {
    expect(await listIds("?inserted_at__gte=2000-01-01&updated_at__lte=2999-12-31")).toHaveLength(3);
    expect(await listIds("?inserted_at__gte=2999-01-01T00:00:00Z")).toEqual([]);
    expect(await listIds("?updated_at__lte=2000-01-01")).toEqual([]);
  });

  it("refuses unknown parameters", async () => {
    const res = await lister.get("/api/v1/webhooks?secret=x");
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.details)).toEqual(["secret"]);
  });
});

describe("GET and DELETE /api/v1/webhooks/{id}", () => {
  it("gets, deletes once, then 404s", async () => {
    const id = (await api.post("/api/v1/webhooks", valid())).body.data.id;
    const got = await api.get(`/api/v1/webhooks/${id.toUpperCase()}`);
    expect(got.status).toBe(200);
    expect(got.body.data.id).toBe(id);
    const del = await api.del(`/api/v1/webhooks/${id}`);
    expect(del.status).toBe(204);
    for (const res of [await api.get(`/api/v1/webhooks/${id}`), await api.del(`/api/v1/webhooks/${id}`)]) {
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: "not_found", message: "Webhook not found" });
    }
  });

  it("answers 400 for an id that is not a UUID", async () => {
    const res = await api.get("/api/v1/webhooks/not-a-uuid");
    expect(res.status).toBe(400);
    expect(res.body.error.details.id).toEqual(["must be a UUID"]);
  });
});

describe("immutability", () => {
  it.each(["PATCH", "PUT"])("%s answers 405 in the error envelope", async (method) => {
    const id = (await api.post("/api/v1/webhooks", valid())).body.data.id;
    const res = await api.fetch(`/api/v1/webhooks/${id}`, {
      method,
      json: { url: "https://other.example.com/" },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, DELETE");
    const body = await res.json<any>();
    expect(body.error).toEqual({
      code: "method_not_allowed",
      message: "Webhooks are immutable; delete and recreate to change one",
      details: null,
    });
    expect(body.meta.request_id).toEqual(expect.any(String));
    expect((await api.get(`/api/v1/webhooks/${id}`)).body.data.url).toBe("https://example.com/edge-events");
  });

  it("still asks for the API key first", async () => {
    const id = (await api.post("/api/v1/webhooks", valid())).body.data.id;
    const res = await api.fetch(`/api/v1/webhooks/${id}`, { method: "PATCH", json: {}, auth: null });
    expect(res.status).toBe(401);
  });
});

describe("documentation", () => {
  it("describes the create request in the OpenAPI document as the contract does", async () => {
    const doc = await (await api.fetch("/api/v1/openapi.json", { auth: null })).json<any>();
    const post = doc.paths["/api/v1/webhooks"].post;
    expect(post.tags).toEqual(["Events.Webhook"]);
    const schema = post.requestBody.content["application/json"].schema;
    expect(schema.title).toBe("WebhookCreateRequest");
    expect(schema.required).toEqual(["url", "secret", "subscribed_events"]);
    expect(schema.properties.url).toMatchObject({
      minLength: 1,
      maxLength: 2048,
      pattern: "^https?:\\/\\/.+",
    });
    expect(schema.properties.secret).toMatchObject({ minLength: 32, maxLength: 256 });
    expect(schema.properties.headers).toMatchObject({ type: "object", maxProperties: 20 });
    expect(schema.properties.headers.additionalProperties).toMatchObject({ type: "string", maxLength: 4096 });
    // The contract's 20, raised to the catalog's size once it outgrew it (every type subscribable).
    expect(schema.properties.subscribed_events).toMatchObject({
      minItems: 1,
      maxItems: Math.max(20, EVENT_TYPES.length),
    });
    expect(post.responses["201"]).toBeDefined();
    expect(post.responses["422"]).toBeDefined();
    const params = doc.paths["/api/v1/webhooks"].get.parameters.map((p: { name: string }) => p.name);
    expect(params).toEqual(
      expect.arrayContaining([
        "event_type",
        "url",
        "inserted_at__gte",
        "updated_at__lte",
        "page",
        "page_size",
      ]),
    );
    expect(Object.keys(doc.paths["/api/v1/webhooks/{id}"]).sort()).toEqual(["delete", "get"]);
    expect(doc.paths["/api/v1/webhooks/{id}/deliveries"].get).toBeDefined();
    expect(doc.paths["/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver"].post).toBeDefined();
  });

  it("serves an AsyncAPI 3.0 document with a message per catalog event", async () => {
    const res = await api.fetch("/api/v1/asyncapi.json", { auth: null });
    expect(res.status).toBe(200);
    const doc = await res.json<any>();
    expect(doc.asyncapi).toBe("3.0.0");
    expect(Object.keys(doc.components.messages)).toEqual([...EVENT_TYPES]);
    expect(doc.operations.deliverEvent.messages).toHaveLength(EVENT_TYPES.length);
    for (const type of EVENT_TYPES) {
      const message = doc.components.messages[type];
      expect(message.payload.required).toEqual(["id", "type", "occurred_at", "data"]);
      expect(message.payload.properties.type.const).toBe(type);
      expect(message.payload.properties.data.type).toBe("object");
      const fields = Object.keys(message.payload.properties.data.properties ?? {});
      expect(fields.join(" ")).not.toMatch(/secret|token|password|ciphertext/i);
      const [, ref] = doc.operations.deliverEvent.messages[EVENT_TYPES.indexOf(type)].$ref.split("#");
      expect(ref).toBe(`/channels/webhook/messages/${type}`);
      expect(doc.channels.webhook.messages[type].$ref).toBe(`#/components/messages/${type}`);
    }
    const registered = doc.components.messages["edge.node.registered"].payload.properties.data;
    expect(registered.required).toEqual(["node_id", "id_type", "cluster_name", "hostname", "version"]);
    expect(doc.components.messages["edge.node.status_changed"].headers.required).toEqual([
      "X-Edge-Event",
      "X-Edge-Delivery",
      "X-Edge-Signature",
    ]);
  });

  it("serves /asyncdoc as a page linking the JSON document", async () => {
    const res = await api.fetch("/asyncdoc", { auth: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('href="/api/v1/asyncapi.json"');
    for (const type of EVENT_TYPES) expect(html).toContain(`id="${type}"`);
  });
});
