import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// Nodes are involved, so this file shares the root database and keeps apart by unique cluster names.
const P = `su${crypto.randomUUID().slice(0, 6)}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

let api: TestApi;
let db: ReturnType<typeof createDatabase>;
let nodeA: string; // cluster P-a
let nodeB: string; // cluster P-b

/** A fresh ssh-ed25519 key line (WebCrypto key pair, SSH wire format). */
async function ed25519Key(comment = "") {
  const pair = (await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const name = new TextEncoder().encode("ssh-ed25519");
  const blob = new Uint8Array(4 + name.length + 4 + raw.length);
  const view = new DataView(blob.buffer);
  view.setUint32(0, name.length);
  blob.set(name, 4);
  view.setUint32(4 + name.length, raw.length);
  blob.set(raw, 8 + name.length);
  const line = `ssh-ed25519 ${btoa(String.fromCharCode(...blob))}`;
  return comment ? `${line} ${comment}` : line;
}

async function makeCluster(name: string) {
  const res = await api.post("/api/v1/clusters", { name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

function create(nodeId: string, body: unknown) {
  return api.post(`/api/v1/nodes/${nodeId}/ssh_usernames`, body);
}

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  await makeCluster(`${P}-a`);
  await makeCluster(`${P}-b`);
  nodeA = (await enrolNode(api, `${P}-a`)).nodeId;
  nodeB = (await enrolNode(api, `${P}-b`)).nodeId;
});

describe("POST /api/v1/nodes/{node_id}/ssh_usernames", () => {
  it("creates a username with a password and keys in one write, never returning the password", async () => {
    const laptop = await ed25519Key("user@laptop");
    const ci = await ed25519Key("ci@deploy");
    const res = await create(nodeA, {
      username: "admin",
      password: "MySecurePassword123!",
      public_keys: [
        { key_name: "laptop", public_key: laptop },
        { key_name: "ci", public_key: ci },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(["data", "meta"]);
    expect(Object.keys(res.body.data).sort()).toEqual([
      "has_password",
      "id",
      "inserted_at",
      "node_id",
      "public_keys",
      "updated_at",
      "username",
    ]);
    const data = res.body.data;
    expect(data).toMatchObject({ username: "admin", node_id: nodeA, has_password: true });
    expect(data.id).toMatch(UUID);
    expect(data.inserted_at).toMatch(SECONDS);
    expect(data.public_keys).toHaveLength(2);
    expect(data.public_keys.map((k: any) => k.key_name)).toEqual(["laptop", "ci"]);
    for (const key of data.public_keys) {
      expect(Object.keys(key).sort()).toEqual([
        "id",
        "inserted_at",
        "key_name",
        "public_key",
        "ssh_username_id",
        "updated_at",
      ]);
      expect(key.ssh_username_id).toBe(data.id);
    }
    expect(data.public_keys[0].public_key).toBe(laptop);
    expect(JSON.stringify(res.body)).not.toContain("MySecurePassword123!");

    const [row] = (await db.run(sql`SELECT password_hash FROM ssh_usernames WHERE id = ${data.id}`)).rows;
    expect(String(row.password_hash)).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(String(row.password_hash)).not.toContain("MySecurePassword123!");

    const fetched = await api.get(`/api/v1/ssh_usernames/${data.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.data).toEqual(data);
  });

  it("creates a username with neither password nor keys", async () => {
    const res = await create(nodeA, { username: "_svc" });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ has_password: false, public_keys: [] });
  });

  it("accepts null password and public_keys", async () => {
    const res = await create(nodeA, { username: "nulls", password: null, public_keys: null });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ has_password: false, public_keys: [] });
  });

  it("stores a key with its whitespace normalised", async () => {
    const key = await ed25519Key();
    const res = await create(nodeA, {
      username: "spaced",
      public_keys: [{ key_name: "k", public_key: `${key.replace(" ", " \t  ")}   Jane  Doe  ` }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.data.public_keys[0].public_key).toBe(`${key} Jane Doe`);
  });

  it("refuses what the contract's pattern refuses: leading whitespace, a line break inside", async () => {
    const key = await ed25519Key();
    for (const publicKey of [` ${key}`, `${key} a\nb`, `${key}\n${key}`]) {
      const res = await create(nodeA, {
        username: "patterned",
        public_keys: [{ key_name: "k", public_key: publicKey }],
      });
      expect(res.status).toBe(422);
      expect(res.body.error.details["public_keys.0.public_key"][0]).toMatch(
        /must be an OpenSSH public key|must be a single line/,
      );
    }
  });

  it("accepts an upper-case node id", async () => {
    const res = await create(nodeB.toUpperCase(), { username: "upper" });
    expect(res.status).toBe(201);
    expect(res.body.data.node_id).toBe(nodeB);
  });

  it("refuses a username already on the node with 409, and creates nothing", async () => {
    expect((await create(nodeA, { username: "dup-user" })).status).toBe(201);
    const key = await ed25519Key();
    const res = await create(nodeA, {
      username: "dup-user",
      public_keys: [{ key_name: "k", public_key: key }],
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: "conflict",
      details: { username: ["has already been taken"] },
    });
    const keys = await api.get(`/api/v1/ssh_public_keys?public_key=${encodeURIComponent(key)}`);
    expect(keys.body.meta.pagination.total_count).toBe(0);
  });

  it("allows the same username on another node", async () => {
    expect((await create(nodeA, { username: "shared" })).status).toBe(201);
    expect((await create(nodeB, { username: "shared" })).status).toBe(201);
  });

  it("answers 404 for an unknown node, 400 for a malformed node id", async () => {
    const missing = await create(crypto.randomUUID(), { username: "ghost" });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: "not_found", message: "Node not found" });
    const bad = await create("not-a-uuid", { username: "ghost" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("bad_request");
  });

  it.each(["abc", "_ab", "a-b_c", "x".repeat(32), "a1234"])("accepts the username %j", async (username) => {
    expect((await create(nodeB, { username })).status).toBe(201);
  });

  it.each([
    [{}, "username", "is required"],
    [{ username: "ab" }, "username", "must be at least 3 characters"],
    [{ username: "x".repeat(33) }, "username", "must be at most 32 characters"],
    [{ username: "Admin" }, "username", "must start with a letter or underscore"],
    [{ username: "1abc" }, "username", "must start with a letter or underscore"],
    [{ username: "-abc" }, "username", "must start with a letter or underscore"],
    [{ username: "a.bc" }, "username", "must start with a letter or underscore"],
    [{ username: "ab c" }, "username", "must start with a letter or underscore"],
    [{ username: 42 }, "username", "must be a string"],
    [{ username: "okname", password: "short" }, "password", "must be at least 12 characters"],
    [{ username: "okname", password: "p".repeat(129) }, "password", "must be at most 128 characters"],
    [{ username: "okname", password: 123456789012 }, "password", "must be a string"],
    [{ username: "okname", public_keys: "ssh-ed25519 AAAA" }, "public_keys", "must be an array"],
    [{ username: "okname", public_keys: [{ key_name: "k" }] }, "public_keys.0.public_key", ""],
    [
      { username: "okname", public_keys: [{ key_name: "", public_key: "ssh-ed25519 AAAA" }] },
      "public_keys.0.key_name",
      "can't be blank",
    ],
    [{ username: "okname", extra: 1 }, "extra", ""],
  ])("refuses %j with 422 on %s", async (body, field, message) => {
    const res = await create(nodeA, body);
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.message).toBe("Validation failed");
    expect(res.body.error.details[field], JSON.stringify(res.body.error.details)).toBeDefined();
    if (message) expect(res.body.error.details[field].join(" ")).toContain(message);
  });

  it("refuses a bad key in public_keys with 422 naming its index, and creates nothing", async () => {
    const good = await ed25519Key();
    const res = await create(nodeA, {
      username: "badkey",
      public_keys: [
        { key_name: "good", public_key: good },
        { key_name: "bad", public_key: `ssh-rsa ${good.split(" ")[1]}` },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details["public_keys.1.public_key"][0]).toMatch(/declared as "ssh-rsa"/);
    expect((await api.get(`/api/v1/ssh_usernames?node_id=${nodeA}&username=badkey`)).body.data).toEqual([]);
  });

  it("refuses the same key twice in one request with 422", async () => {
    const key = await ed25519Key();
    const res = await create(nodeA, {
      username: "twice",
      public_keys: [
        { key_name: "a", public_key: key },
        { key_name: "b", public_key: `${key} other-comment` },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual({
      "public_keys.1.public_key": ["is the same key as public_keys.0"],
    });
  });

  it("refuses a body that is not JSON", async () => {
    const res = await api.fetch(`/api/v1/nodes/${nodeA}/ssh_usernames`, {
      method: "POST",
      body: "username=x",
    });
    expect(res.status).toBe(415);
  });

  it("requires the API key", async () => {
    const res = await api.fetch(`/api/v1/nodes/${nodeA}/ssh_usernames`, {
      method: "POST",
      json: { username: "noauth" },
      auth: null,
    });
    expect(res.status).toBe(401);
  });
});

describe("GET /api/v1/ssh_usernames", () => {
  const LA = `${P}-la`;
  const LB = `${P}-lb-prod`;
  const SCOPE = `cluster_name=${P}-l*`;
  const ids: Record<string, string> = {};
  const label: Record<string, string> = {};
  let n1: string;
  let n2: string;

  beforeAll(async () => {
    await makeCluster(LA);
    await makeCluster(LB);
    n1 = (await enrolNode(api, LA)).nodeId;
    n2 = (await enrolNode(api, LB)).nodeId;
    const plan = [
      // label, node, username, password, inserted, updated
      ["u1", () => n1, "root", null, "2025-01-01T10:00:00Z", "2025-01-05T10:00:00Z"],
      ["u2", () => n1, "deploy", "a-long-password-1", "2025-01-02T10:00:00Z", "2025-01-06T10:00:00Z"],
      ["u3", () => n2, "deploy", null, "2025-01-03T10:00:00Z", "2025-01-07T10:00:00Z"],
      ["u4", () => n2, "admin", null, "2025-01-04T10:00:00Z", "2025-01-08T10:00:00Z"],
    ] as const;
    for (const [name, node, username, password, ins, upd] of plan) {
      const res = await create(node(), { username, password });
      expect(res.status).toBe(201);
      ids[name] = res.body.data.id;
      label[res.body.data.id] = name;
      await db.run(
        sql`UPDATE ssh_usernames SET inserted_at = ${Date.parse(ins)}, updated_at = ${Date.parse(upd)} WHERE id = ${res.body.data.id}`,
      );
    }
    const key = await ed25519Key("ops@example.com");
    expect(
      (
        await api.post(`/api/v1/ssh_usernames/${ids.u3}/ssh_public_keys`, {
          key_name: "ops",
          public_key: key,
        })
      ).status,
    ).toBe(201);
  });

  async function labels(query: string) {
    const res = await api.get(`/api/v1/ssh_usernames?${SCOPE}&${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data.map((u: any) => label[u.id]);
  }

  it("lists oldest first with pagination and preloaded keys", async () => {
    const res = await api.get(`/api/v1/ssh_usernames?${SCOPE}&page_size=3`);
    expect(res.status).toBe(200);
    expect(res.body.data.map((u: any) => label[u.id])).toEqual(["u1", "u2", "u3"]);
    expect(res.body.meta.pagination).toEqual({
      has_next: true,
      has_prev: false,
      next_page: 2,
      page: 1,
      page_size: 3,
      prev_page: null,
      total_count: 4,
      total_pages: 2,
    });
    const u3 = res.body.data[2];
    expect(u3.public_keys).toHaveLength(1);
    expect(u3.public_keys[0]).toMatchObject({ key_name: "ops", ssh_username_id: ids.u3 });
    expect(res.body.data[0].public_keys).toEqual([]);
    expect(JSON.stringify(res.body)).not.toMatch(/argon2|password_hash|a-long-password/);
    const page2 = await api.get(`/api/v1/ssh_usernames?${SCOPE}&page_size=3&page=2`);
    expect(page2.body.data.map((u: any) => label[u.id])).toEqual(["u4"]);
  });

  it("filters by username, exact and wildcard", async () => {
    expect(await labels("username=deploy")).toEqual(["u2", "u3"]);
    expect(await labels("username=de*")).toEqual(["u2", "u3"]);
    expect(await labels("username=*o*&order_by=username,inserted_at")).toEqual(["u2", "u3", "u1"]);
    expect(await labels("username=dep")).toEqual([]);
  });

  it("filters by cluster_name, exact and wildcard", async () => {
    const exact = await api.get(`/api/v1/ssh_usernames?cluster_name=${LA}`);
    expect(exact.body.data.map((u: any) => label[u.id])).toEqual(["u1", "u2"]);
    const wildcard = await api.get(`/api/v1/ssh_usernames?cluster_name=${P}-*-prod`);
    expect(wildcard.body.data.map((u: any) => label[u.id])).toEqual(["u3", "u4"]);
  });

  it("filters by node_id (any case)", async () => {
    expect(await labels(`node_id=${n2}`)).toEqual(["u3", "u4"]);
    expect(await labels(`node_id=${n2.toUpperCase()}`)).toEqual(["u3", "u4"]);
  });

  it("filters by has_password", async () => {
    expect(await labels("has_password=true")).toEqual(["u2"]);
    expect(await labels("has_password=false")).toEqual(["u1", "u3", "u4"]);
    expect(await labels("has_password=1")).toEqual(["u2"]);
  });

  it("filters by inserted_at and updated_at ranges", async () => {
    expect(await labels("inserted_at__gte=2025-01-02T10:00:00Z&inserted_at__lte=2025-01-03")).toEqual([
      "u2",
      "u3",
    ]);
    expect(await labels("updated_at__gte=2025-01-07")).toEqual(["u3", "u4"]);
    expect(await labels("updated_at__lte=2025-01-05")).toEqual(["u1"]);
  });

  it("sorts by username, cluster_name, inserted_at and updated_at", async () => {
    expect(await labels("order_by=username,inserted_at")).toEqual(["u4", "u2", "u3", "u1"]);
    expect(await labels("order_by=cluster_name,username&order_directions=desc,asc")).toEqual([
      "u4",
      "u3",
      "u2",
      "u1",
    ]);
    expect(await labels("order_by=inserted_at&order_directions=desc")).toEqual(["u4", "u3", "u2", "u1"]);
    expect(await labels("order_by=updated_at")).toEqual(["u1", "u2", "u3", "u4"]);
  });

  it.each([
    ["has_password=maybe", "has_password"],
    ["node_id=nope", "node_id"],
    ["inserted_at__gte=yesterday", "inserted_at__gte"],
    ["order_by=password_hash", "order_by"],
    ["public_key=x", "public_key"],
    ["page_size=0", "page_size"],
  ])("refuses %s with 400", async (query, field) => {
    const res = await api.get(`/api/v1/ssh_usernames?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "bad_request", message: "Invalid request parameters" });
    expect(res.body.error.details[field]).toBeDefined();
  });
});

describe("GET and DELETE /api/v1/ssh_usernames/{id}", () => {
  it("answers 404 for an unknown id and 400 for a malformed one", async () => {
    const missing = await api.get(`/api/v1/ssh_usernames/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: "not_found", message: "SSH username not found" });
    expect((await api.get("/api/v1/ssh_usernames/123")).status).toBe(400);
    expect((await api.del(`/api/v1/ssh_usernames/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await api.del("/api/v1/ssh_usernames/123")).status).toBe(400);
  });

  it("deletes a username and all its keys", async () => {
    const created = await create(nodeA, {
      username: "doomed",
      public_keys: [
        { key_name: "a", public_key: await ed25519Key() },
        { key_name: "b", public_key: await ed25519Key() },
      ],
    });
    const { id, public_keys } = created.body.data;
    const res = await api.del(`/api/v1/ssh_usernames/${id}`);
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    expect((await api.get(`/api/v1/ssh_usernames/${id}`)).status).toBe(404);
    for (const key of public_keys)
      expect((await api.get(`/api/v1/ssh_public_keys/${key.id}`)).status).toBe(404);
    expect((await api.get(`/api/v1/ssh_public_keys?ssh_username_id=${id}`)).body.data).toEqual([]);
    expect((await api.del(`/api/v1/ssh_usernames/${id}`)).status).toBe(404);
    // The name is free again.
    expect((await create(nodeA, { username: "doomed" })).status).toBe(201);
  });

  it("goes with its node when the node is deleted", async () => {
    const { nodeId } = await enrolNode(api, `${P}-b`);
    const created = await create(nodeId, {
      username: "nodegone",
      public_keys: [{ key_name: "a", public_key: await ed25519Key() }],
    });
    expect((await api.del(`/api/v1/nodes/${nodeId}`)).status).toBe(204);
    expect((await api.get(`/api/v1/ssh_usernames/${created.body.data.id}`)).status).toBe(404);
    expect((await api.get(`/api/v1/ssh_public_keys/${created.body.data.public_keys[0].id}`)).status).toBe(
      404,
    );
  });
});
