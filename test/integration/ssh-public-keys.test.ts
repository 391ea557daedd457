import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// Nodes are involved, so this file shares the root database and keeps apart by unique cluster names.
const P = `sk${crypto.randomUUID().slice(0, 6)}`;

let api: TestApi;
let db: ReturnType<typeof createDatabase>;
let nodeA: string;
let userA: string; // "alice" on nodeA

// ---- real key pairs from WebCrypto, written as OpenSSH public keys ----

function wire(...parts: (Uint8Array | string)[]): Uint8Array {
  const bytes = parts.map((p) => (typeof p === "string" ? new TextEncoder().encode(p) : p));
  const out = new Uint8Array(bytes.reduce((n, b) => n + 4 + b.length, 0));
  let offset = 0;
  for (const b of bytes) {
    new DataView(out.buffer).setUint32(offset, b.length);
    out.set(b, offset + 4);
    offset += 4 + b.length;
  }
  return out;
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromB64url = (text: string) =>
  Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
// An SSH mpint is two's complement: a leading 0 keeps a high first bit positive.
const mpint = (magnitude: Uint8Array) => (magnitude[0] & 0x80 ? Uint8Array.of(0, ...magnitude) : magnitude);

async function ed25519Key(comment = "") {
  const pair = (await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const line = `ssh-ed25519 ${b64(wire("ssh-ed25519", raw))}`;
  return comment ? `${line} ${comment}` : line;
}

async function ecdsaKey(bits: 256 | 384 | 521, comment = "") {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: `P-${bits}` }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const point = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const name = `ecdsa-sha2-nistp${bits}`;
  return `${name} ${b64(wire(name, `nistp${bits}`, point))} ${comment}`.trim();
}

async function rsaKey(modulusLength: number, comment = "") {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength, publicExponent: Uint8Array.of(1, 0, 1), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  const blob = wire("ssh-rsa", mpint(fromB64url(jwk.e!)), mpint(fromB64url(jwk.n!)));
  return `ssh-rsa ${b64(blob)} ${comment}`.trim();
}

// ---------------------------------------------------------------------------

async function makeCluster(name: string) {
  const res = await api.post("/api/v1/clusters", { name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function makeUser(nodeId: string, username: string) {
  const res = await api.post(`/api/v1/nodes/${nodeId}/ssh_usernames`, { username });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data.id as string;
}

function addKey(sshUsernameId: string, body: unknown) {
  return api.post(`/api/v1/ssh_usernames/${sshUsernameId}/ssh_public_keys`, body);
}

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  db = createDatabase({ url: api.env.LIBSQL_URL! });
  await makeCluster(`${P}-a`);
  nodeA = (await enrolNode(api, `${P}-a`)).nodeId;
  userA = await makeUser(nodeA, "alice");
});

describe("POST /api/v1/ssh_usernames/{ssh_username_id}/ssh_public_keys", () => {
  it("creates a key and answers the contract's SshPublicKey", async () => {
    const key = await ed25519Key("alice@laptop");
    const res = await addKey(userA, { key_name: "laptop-key", public_key: key });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(Object.keys(res.body.data).sort()).toEqual([
      "id",
      "inserted_at",
      "key_name",
      "public_key",
      "ssh_username_id",
      "updated_at",
    ]);
    expect(res.body.data).toMatchObject({ key_name: "laptop-key", public_key: key, ssh_username_id: userA });
    expect(res.body.data.inserted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const fetched = await api.get(`/api/v1/ssh_public_keys/${res.body.data.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.data).toEqual(res.body.data);
    const owner = await api.get(`/api/v1/ssh_usernames/${userA}`);
    expect(owner.body.data.public_keys.map((k: any) => k.id)).toContain(res.body.data.id);
  });

  it("stores the SHA-256 fingerprint of the decoded key blob", async () => {
    const key = await ed25519Key();
    const res = await addKey(userA, { key_name: "fp", public_key: key });
    const blob = Uint8Array.from(atob(key.split(" ")[1]), (c) => c.charCodeAt(0));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", blob));
    const [row] = (await db.run(sql`SELECT fingerprint FROM ssh_public_keys WHERE id = ${res.body.data.id}`))
      .rows;
    expect(row.fingerprint).toBe(`SHA256:${b64(digest).replace(/=+$/, "")}`);
  });

  it.each([
    ["ssh-ed25519", () => ed25519Key("e@x")],
    ["ecdsa-sha2-nistp256", () => ecdsaKey(256, "p256@x")],
    ["ecdsa-sha2-nistp384", () => ecdsaKey(384)],
    ["ecdsa-sha2-nistp521", () => ecdsaKey(521, "p521@x")],
    ["ssh-rsa (2048 bits)", () => rsaKey(2048, "rsa@x")],
    ["ssh-rsa (3072 bits)", () => rsaKey(3072)],
  ])("accepts a real %s key", async (_name, make) => {
    const key = await make();
    const res = await addKey(userA, { key_name: "algo", public_key: key });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.data.public_key).toBe(key);
  });

  it("refuses a 1024-bit RSA key with 422", async () => {
    const res = await addKey(userA, { key_name: "weak", public_key: await rsaKey(1024) });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: "validation_failed",
      message: "Validation failed",
      details: { public_key: ["RSA key is 1024 bits; at least 2048 bits are required"] },
    });
  });

  it("refuses key data whose embedded algorithm differs from the declared one", async () => {
    const ed = await ed25519Key();
    const res = await addKey(userA, { key_name: "liar", public_key: `ssh-rsa ${ed.split(" ")[1]}` });
    expect(res.status).toBe(422);
    expect(res.body.error.details.public_key[0]).toBe(
      'key data is for "ssh-ed25519", but the key is declared as "ssh-rsa"',
    );
    const p256 = await ecdsaKey(256);
    const curve = await addKey(userA, {
      key_name: "liar",
      public_key: `ecdsa-sha2-nistp384 ${p256.split(" ")[1]}`,
    });
    expect(curve.status).toBe(422);
  });

  it.each([
    ["", "can't be blank"],
    ["not a key", "must be an OpenSSH public key"],
    ["ssh-dss AAAAB3NzaC1kc3MAAACBAP", "must be an OpenSSH public key"],
    ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGQw7Di3fBr2oc2vbZN5YLz8YpJ8PQb5bXwQwe+Q", "truncated"],
    [`ssh-ed25519 ${b64(wire("ssh-ed25519", new Uint8Array(31)))}`, "31 bytes, expected 32"],
    ["ssh-ed25519 AAAA", "truncated"],
    ["ssh-rsa AAAAB3NzaC1yc2E", "not valid base64"],
  ])("refuses the public_key %j with 422", async (publicKey, message) => {
    const res = await addKey(userA, { key_name: "bad", public_key: publicKey });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error.details.public_key.join(" ")).toContain(message);
  });

  it.each([
    [{ public_key: "x" }, "key_name"],
    [{ key_name: "x" }, "public_key"],
    [{ key_name: "x".repeat(256), public_key: "ssh-ed25519 AAAA" }, "key_name"],
    [{ key_name: 1, public_key: "ssh-ed25519 AAAA" }, "key_name"],
    [{ key_name: "x", public_key: "ssh-ed25519 AAAA", extra: true }, "extra"],
  ])("refuses %j with 422 naming %s", async (body, field) => {
    const res = await addKey(userA, body);
    expect(res.status).toBe(422);
    expect(res.body.error.details[field]).toBeDefined();
  });

  it("refuses the same key again for the username with 409, whatever its comment", async () => {
    const key = await ed25519Key("one@x");
    expect((await addKey(userA, { key_name: "first", public_key: key })).status).toBe(201);
    const again = await addKey(userA, {
      key_name: "second",
      public_key: `${key.split(" ").slice(0, 2).join(" ")} two@x`,
    });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: "conflict",
      message: 'This public key is already registered for SSH username "alice"',
      details: { public_key: ["has already been taken"] },
    });
  });

  it("refuses a key the username got at creation with 409", async () => {
    const key = await ed25519Key();
    const created = await api.post(`/api/v1/nodes/${nodeA}/ssh_usernames`, {
      username: "created-with-key",
      public_keys: [{ key_name: "k", public_key: key }],
    });
    expect((await addKey(created.body.data.id, { key_name: "k2", public_key: key })).status).toBe(409);
  });

  it("lets another username hold the same key", async () => {
    const key = await ed25519Key();
    const other = await makeUser(nodeA, "bob");
    expect((await addKey(userA, { key_name: "shared", public_key: key })).status).toBe(201);
    expect((await addKey(other, { key_name: "shared", public_key: key })).status).toBe(201);
  });

  it("answers 404 for an unknown username and 400 for a malformed id", async () => {
    const key = await ed25519Key();
    const missing = await addKey(crypto.randomUUID(), { key_name: "k", public_key: key });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: "not_found", message: "SSH username not found" });
    expect((await addKey("nope", { key_name: "k", public_key: key })).status).toBe(400);
  });
});

describe("GET /api/v1/ssh_public_keys", () => {
  const LA = `${P}-la`;
  const LB = `${P}-lb-prod`;
  const SCOPE = `cluster_name=${P}-l*`;
  const label: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let n1: string;
  let n2: string;
  let deployN1: string;

  beforeAll(async () => {
    await makeCluster(LA);
    await makeCluster(LB);
    n1 = (await enrolNode(api, LA)).nodeId;
    n2 = (await enrolNode(api, LB)).nodeId;
    deployN1 = await makeUser(n1, "deploy");
    const rootN1 = await makeUser(n1, "root");
    const deployN2 = await makeUser(n2, "deploy");
    const plan = [
      // label, owner, key_name, comment, inserted, updated
      ["k1", deployN1, "laptop", "jane@example.com", "2025-01-01T10:00:00Z", "2025-01-05T10:00:00Z"],
      ["k2", deployN1, "ci-prod", "ci@build.example.org", "2025-01-02T10:00:00Z", "2025-01-06T10:00:00Z"],
      ["k3", rootN1, "laptop", "john@example.com", "2025-01-03T10:00:00Z", "2025-01-07T10:00:00Z"],
      ["k4", deployN2, "prod-ops", "", "2025-01-04T10:00:00Z", "2025-01-08T10:00:00Z"],
    ] as const;
    for (const [name, owner, keyName, comment, ins, upd] of plan) {
      const res = await addKey(owner, { key_name: keyName, public_key: await ed25519Key(comment) });
      expect(res.status).toBe(201);
      ids[name] = res.body.data.id;
      label[res.body.data.id] = name;
      await db.run(
        sql`UPDATE ssh_public_keys SET inserted_at = ${Date.parse(ins)}, updated_at = ${Date.parse(upd)} WHERE id = ${res.body.data.id}`,
      );
    }
  });

  async function labels(query: string) {
    const res = await api.get(`/api/v1/ssh_public_keys?${SCOPE}&${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data.map((k: any) => label[k.id]);
  }

  it("lists oldest first with pagination", async () => {
    const res = await api.get(`/api/v1/ssh_public_keys?${SCOPE}&page_size=2&page=2`);
    expect(res.status).toBe(200);
    expect(res.body.data.map((k: any) => label[k.id])).toEqual(["k3", "k4"]);
    expect(res.body.meta.pagination).toMatchObject({
      page: 2,
      page_size: 2,
      total_count: 4,
      total_pages: 2,
      has_prev: true,
      has_next: false,
    });
  });

  it("filters by public_key wildcard, e.g. an email domain in the comment", async () => {
    expect(await labels("public_key=*@example.com")).toEqual(["k1", "k3"]);
    expect(await labels("public_key=*example*")).toEqual(["k1", "k2", "k3"]);
    expect(await labels("public_key=jane@")).toEqual(["k1"]);
    expect(await labels("public_key=*@EXAMPLE.COM")).toEqual([]);
  });

  it("finds a key by its key data", async () => {
    const key = (await api.get(`/api/v1/ssh_public_keys/${ids.k2}`)).body.data.public_key as string;
    expect(await labels(`public_key=${encodeURIComponent(key.split(" ")[1])}`)).toEqual(["k2"]);
    expect(await labels(`public_key=${encodeURIComponent(key)}`)).toEqual(["k2"]);
  });

  it("filters by username and key_name, exact and wildcard", async () => {
    expect(await labels("username=deploy")).toEqual(["k1", "k2", "k4"]);
    expect(await labels("username=ro*")).toEqual(["k3"]);
    expect(await labels("key_name=laptop")).toEqual(["k1", "k3"]);
    expect(await labels("key_name=*prod*")).toEqual(["k2", "k4"]);
  });

  it("filters by cluster_name, node_id and ssh_username_id", async () => {
    const exact = await api.get(`/api/v1/ssh_public_keys?cluster_name=${LB}`);
    expect(exact.body.data.map((k: any) => label[k.id])).toEqual(["k4"]);
    expect(await labels(`node_id=${n1}`)).toEqual(["k1", "k2", "k3"]);
    expect(await labels(`node_id=${n2.toUpperCase()}`)).toEqual(["k4"]);
    expect(await labels(`ssh_username_id=${deployN1}`)).toEqual(["k1", "k2"]);
    expect(await labels(`username=deploy&node_id=${n2}`)).toEqual(["k4"]);
  });

  it("filters by inserted_at and updated_at ranges", async () => {
    expect(await labels("inserted_at__gte=2025-01-02&inserted_at__lte=2025-01-03T10:00:00Z")).toEqual([
      "k2",
      "k3",
    ]);
    expect(await labels("updated_at__lte=2025-01-06")).toEqual(["k1", "k2"]);
    expect(await labels("updated_at__gte=2025-01-08T10:00:00Z")).toEqual(["k4"]);
  });

  it("sorts by key_name, username, cluster_name and dates", async () => {
    expect(await labels("order_by=key_name,inserted_at")).toEqual(["k2", "k1", "k3", "k4"]);
    expect(await labels("order_by=username,inserted_at&order_directions=desc,asc")).toEqual([
      "k3",
      "k1",
      "k2",
      "k4",
    ]);
    expect(await labels("order_by=cluster_name,inserted_at&order_directions=desc,desc")).toEqual([
      "k4",
      "k3",
      "k2",
      "k1",
    ]);
    expect(await labels("order_by=updated_at&order_directions=desc")).toEqual(["k4", "k3", "k2", "k1"]);
  });

  it.each([
    ["node_id=x", "node_id"],
    ["ssh_username_id=x", "ssh_username_id"],
    ["updated_at__gte=soon", "updated_at__gte"],
    ["has_password=true", "has_password"],
    ["order_by=fingerprint", "order_by"],
  ])("refuses %s with 400", async (query, field) => {
    const res = await api.get(`/api/v1/ssh_public_keys?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.details[field]).toBeDefined();
  });
});

describe("GET and DELETE /api/v1/ssh_public_keys/{id}", () => {
  it("deletes one key, leaving the username and its other keys", async () => {
    const owner = await makeUser(nodeA, "carol");
    const a = (await addKey(owner, { key_name: "a", public_key: await ed25519Key() })).body.data;
    const b = (await addKey(owner, { key_name: "b", public_key: await ed25519Key() })).body.data;
    const res = await api.del(`/api/v1/ssh_public_keys/${a.id}`);
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    expect((await api.get(`/api/v1/ssh_public_keys/${a.id}`)).status).toBe(404);
    expect((await api.del(`/api/v1/ssh_public_keys/${a.id}`)).status).toBe(404);
    const left = await api.get(`/api/v1/ssh_usernames/${owner}`);
    expect(left.body.data.public_keys.map((k: any) => k.id)).toEqual([b.id]);
    // The same key can be added again once deleted.
    expect((await addKey(owner, { key_name: "a-again", public_key: a.public_key })).status).toBe(201);
  });

  it("answers 404 for unknown ids and 400 for malformed ones", async () => {
    const missing = await api.get(`/api/v1/ssh_public_keys/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: "not_found", message: "SSH public key not found" });
    expect((await api.get("/api/v1/ssh_public_keys/zzz")).status).toBe(400);
    expect((await api.del("/api/v1/ssh_public_keys/zzz")).status).toBe(400);
  });

  it("requires the API key", async () => {
    const res = await api.fetch("/api/v1/ssh_public_keys", { auth: null });
    expect(res.status).toBe(401);
  });
});
