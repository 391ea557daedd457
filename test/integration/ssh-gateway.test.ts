import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { enrolNode } from "./agent-session";
import { API_KEY, createTestApi, type TestApi } from "./harness";

// Nodes are involved, so this file shares the root database and keeps apart by unique cluster names.
const P = `sg${crypto.randomUUID().slice(0, 6)}`;
const PASSWORD = "correct horse battery staple";

let api: TestApi;
let db: ReturnType<typeof createDatabase>;
const node = { a: { id: "", token: "" }, b: { id: "", token: "" } };
const users: Record<string, { id: string; keys: { id: string; public_key: string }[] }> = {};

async function ed25519Key(comment = "") {
  const pair = (await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const name = new TextEncoder().encode("ssh-ed25519");
  const blob = new Uint8Array(8 + name.length + raw.length);
  const view = new DataView(blob.buffer);
  view.setUint32(0, name.length);
  blob.set(name, 4);
  view.setUint32(4 + name.length, raw.length);
  blob.set(raw, 8 + name.length);
  const line = `ssh-ed25519 ${btoa(String.fromCharCode(...blob))}`;
  return comment ? `${line} ${comment}` : line;
}

async function makeUser(label: string, nodeId: string, body: Record<string, unknown>) {
  const res = await api.post(`/api/v1/nodes/${nodeId}/ssh_usernames`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  users[label] = { id: res.body.data.id, keys: res.body.data.public_keys };
}

async function authorizedKeys(token: string | null, query: string) {
  const res = await api.fetch(`/agent/v1/ssh/authorized_keys?${query}`, {
    auth: null,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, body: await res.json<any>() };
}

async function verifyPassword(token: string | null, json: unknown) {
  const res = await api.fetch("/agent/v1/ssh/verify_password", {
    method: "POST",
    auth: null,
    json,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, body: await res.json<any>() };
}

async function verifiedEvents(sshUsernameId: string) {
  const rows = (
    await db.run(sql`SELECT data FROM events WHERE type = 'edge.ssh_username.verified'
      AND json_extract(data, '$.ssh_username_id') = ${sshUsernameId} ORDER BY occurred_at, rowid`)
  ).rows;
  return rows.map((r) => JSON.parse(String(r.data)));
}

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  expect((await api.post("/api/v1/clusters", { name: `${P}-a` })).status).toBe(201);
  const a = await enrolNode(api, `${P}-a`);
  const b = await enrolNode(api, `${P}-a`);
  node.a = { id: a.nodeId, token: a.token };
  node.b = { id: b.nodeId, token: b.token };
  await makeUser("deployA", node.a.id, {
    username: "deploy",
    password: PASSWORD,
    public_keys: [
      { key_name: "laptop", public_key: await ed25519Key("jane@laptop") },
      { key_name: "ci", public_key: await ed25519Key() },
    ],
  });
  await makeUser("deployB", node.b.id, {
    username: "deploy",
    public_keys: [{ key_name: "other", public_key: await ed25519Key("b@node") }],
  });
  await makeUser("keyless", node.a.id, { username: "keyless", password: PASSWORD });
  await makeUser("nopass", node.a.id, {
    username: "nopass",
    public_keys: [{ key_name: "k", public_key: await ed25519Key() }],
  });
});

describe("GET /agent/v1/ssh/authorized_keys", () => {
  it("returns the calling node's keys for the username and records a public_key verification", async () => {
    const res = await authorizedKeys(node.a.token, "username=deploy");
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      ssh_username_id: users.deployA.id,
      username: "deploy",
      public_keys: users.deployA.keys.map((k) => k.public_key),
    });
    expect(res.body.meta.request_id).toEqual(expect.any(String));
    const events = await verifiedEvents(users.deployA.id);
    expect(events.at(-1)).toEqual({
      node_id: node.a.id,
      ssh_username_id: users.deployA.id,
      username: "deploy",
      method: "public_key",
    });
  });

  it("shows each node only its own usernames", async () => {
    const res = await authorizedKeys(node.b.token, "username=deploy");
    expect(res.body.data.ssh_username_id).toBe(users.deployB.id);
    expect(res.body.data.public_keys).toEqual(users.deployB.keys.map((k) => k.public_key));
    const other = await authorizedKeys(node.b.token, "username=nopass");
    expect(other.body.data).toEqual({ ssh_username_id: null, username: "nopass", public_keys: [] });
  });

  it("answers an empty list, and records nothing, for unknown, keyless and impossible usernames", async () => {
    const before = await verifiedEvents(users.keyless.id);
    for (const username of ["nobody", "keyless", "Root", "a.b"]) {
      const res = await authorizedKeys(node.a.token, `username=${encodeURIComponent(username)}`);
      expect(res.status).toBe(200);
      expect(res.body.data.public_keys).toEqual([]);
    }
    expect(await verifiedEvents(users.keyless.id)).toEqual(before);
  });

  it("stops listing a key once it is deleted", async () => {
    const owner = await api.post(`/api/v1/nodes/${node.a.id}/ssh_usernames`, {
      username: "rotating",
      public_keys: [
        { key_name: "old", public_key: await ed25519Key() },
        { key_name: "new", public_key: await ed25519Key() },
      ],
    });
    const [oldKey, newKey] = owner.body.data.public_keys;
    expect((await api.del(`/api/v1/ssh_public_keys/${oldKey.id}`)).status).toBe(204);
    const res = await authorizedKeys(node.a.token, "username=rotating");
    expect(res.body.data.public_keys).toEqual([newKey.public_key]);
    expect((await api.del(`/api/v1/ssh_usernames/${owner.body.data.id}`)).status).toBe(204);
    expect((await authorizedKeys(node.a.token, "username=rotating")).body.data.public_keys).toEqual([]);
  });

  it("records a key lookup at most once per node and username per minute (sshd asks on every attempt)", async () => {
    await makeUser("lookedUp", node.a.id, {
      username: "lookedup",
      public_keys: [{ key_name: "k", public_key: await ed25519Key() }],
    });
    for (let i = 0; i < 5; i++)
      expect((await authorizedKeys(node.a.token, "username=lookedup")).status).toBe(200);
    expect(await verifiedEvents(users.lookedUp.id)).toHaveLength(1);
  });

  it("refuses a missing or extra parameter with 400", async () => {
    const missing = await authorizedKeys(node.a.token, "");
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.username).toBeDefined();
    const extra = await authorizedKeys(node.a.token, "username=deploy&node_id=x");
    expect(extra.status).toBe(400);
    expect(extra.body.error.details.node_id).toBeDefined();
  });

  it("refuses requests without a valid node token with 401", async () => {
    for (const token of [null, "not-a-token", API_KEY]) {
      const res = await authorizedKeys(token, "username=deploy");
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("unauthorized");
    }
  });
});

describe("POST /agent/v1/ssh/verify_password", () => {
  it("accepts the right password and records a password verification without the secret", async () => {
    const res = await verifyPassword(node.a.token, { username: "deploy", password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ ssh_username_id: users.deployA.id, username: "deploy" });
    const events = await verifiedEvents(users.deployA.id);
    expect(events.at(-1)).toEqual({
      node_id: node.a.id,
      ssh_username_id: users.deployA.id,
      username: "deploy",
      method: "password",
    });
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
    expect(JSON.stringify(events)).not.toContain("argon2");
  });

  it("refuses a wrong password, an unknown user, a keys-only user and another node's user with 401", async () => {
    const before = (await verifiedEvents(users.deployA.id)).length;
    const cases: [string, unknown][] = [
      [node.a.token, { username: "deploy", password: `${PASSWORD}!` }],
      [node.a.token, { username: "deploy", password: "" }],
      [node.a.token, { username: "nobody", password: PASSWORD }],
      [node.a.token, { username: "nopass", password: PASSWORD }],
      [node.b.token, { username: "keyless", password: PASSWORD }],
      [node.a.token, { username: "Deploy", password: PASSWORD }],
    ];
    for (const [token, body] of cases) {
      const res = await verifyPassword(token, body);
      expect(res.status, JSON.stringify(body)).toBe(401);
      expect(res.body.error).toMatchObject({ code: "unauthorized", message: "Invalid username or password" });
    }
    expect(await verifiedEvents(users.deployA.id)).toHaveLength(before);
  });

  it("refuses requests without a valid node token with 401, before looking at the password", async () => {
    for (const token of [null, "nope", API_KEY]) {
      const res = await verifyPassword(token, { username: "deploy", password: PASSWORD });
      expect(res.status).toBe(401);
      expect(res.body.error.message).not.toBe("Invalid username or password");
    }
  });

  it.each([
    [{ username: "deploy" }, "password"],
    [{ password: PASSWORD }, "username"],
    [{ username: 1, password: PASSWORD }, "username"],
    [{ username: "deploy", password: "x".repeat(1025) }, "password"],
    [{ username: "deploy", password: PASSWORD, extra: 1 }, "extra"],
  ])("refuses %j with 422", async (body, field) => {
    const res = await verifyPassword(node.a.token, body);
    expect(res.status).toBe(422);
    expect(res.body.error.details[field]).toBeDefined();
  });

  it("refuses a body that is not JSON", async () => {
    const headers = { authorization: `Bearer ${node.a.token}` };
    const plain = await api.fetch("/agent/v1/ssh/verify_password", {
      method: "POST",
      auth: null,
      headers,
      body: "username=deploy",
    });
    expect(plain.status).toBe(415);
    const broken = await api.fetch("/agent/v1/ssh/verify_password", {
      method: "POST",
      auth: null,
      headers: { ...headers, "content-type": "application/json" },
      body: "{",
    });
    expect(broken.status).toBe(400);
  });

  it("stops answering once the node is deleted", async () => {
    const { nodeId, token } = await enrolNode(api, `${P}-a`);
    await makeUser("doomed", nodeId, { username: "doomed", password: PASSWORD });
    expect((await verifyPassword(token, { username: "doomed", password: PASSWORD })).status).toBe(200);
    expect((await api.del(`/api/v1/nodes/${nodeId}`)).status).toBe(204);
    expect((await verifyPassword(token, { username: "doomed", password: PASSWORD })).status).toBe(401);
    expect((await authorizedKeys(token, "username=doomed")).status).toBe(401);
  });
});
