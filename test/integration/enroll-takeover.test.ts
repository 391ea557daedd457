import { beforeAll, describe, expect, it } from "vitest";
import { decodeKeyBlob } from "../../src/enrollment/key-blob";
import { connectAgent } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// Review H1: a node's identity cannot be taken over by enrolling its id. The connect checks reach the
// NodeSession Durable Object, so this file shares the root database under a unique cluster prefix.
let api: TestApi;
const P = `tk${crypto.randomUUID().slice(0, 6)}`;
const MAIN = `${P}-main`;
const OTHER = `${P}-other`;

async function newKey(cluster: string) {
  const res = await api.post(`/api/v1/clusters/${cluster}/enrollment_keys`, { uses_remaining: 5 });
  expect(res.status).toBe(201);
  return { id: res.body.data.id as string, secret: decodeKeyBlob(res.body.data.key)?.key ?? "" };
}

async function enrol(secret: string, nodeId: string, extra: Record<string, unknown> = {}) {
  const res = await api.fetch("/agent/v1/enroll", {
    method: "POST",
    auth: null,
    json: {
      key: secret,
      node_id: nodeId,
      id_type: "persistent",
      hostname: "host-a",
      platform: "linux",
      version: "1.2.3",
      ...extra,
    },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function connectStatus(token: string) {
  const res = await api.fetch("/agent/v1/connect", {
    headers: { upgrade: "websocket", authorization: `Bearer ${token}` },
    auth: null,
  });
  if (res.webSocket) {
    res.webSocket.accept();
    res.webSocket.close(1000);
  }
  return res.status;
}

async function enrolled(cluster = MAIN) {
  const nodeId = crypto.randomUUID();
  const key = await newKey(cluster);
  const res = await enrol(key.secret, nodeId);
  expect(res.status).toBe(201);
  return { nodeId, token: res.body.data.api_token as string, node: res.body.data, key };
}

beforeAll(async () => {
  api = await createTestApi({}, { sharedDatabase: true });
  for (const name of [MAIN, OTHER]) expect((await api.post("/api/v1/clusters", { name })).status).toBe(201);
});

describe("enrolment naming an existing node id without proof", () => {
  it("is refused with 409 and changes nothing: token, cluster, live connection and key uses stay", async () => {
    const { nodeId, token, node } = await enrolled();
    const agent = await connectAgent(api, token);
    agent.hello();
    await agent.next("config");
    const attacker = await newKey(MAIN);

    const res = await enrol(attacker.secret, nodeId, { hostname: "evil", version: "6.6.6" });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
    expect(res.body.meta.request_id).toEqual(expect.any(String));

    const after = (await api.get(`/api/v1/nodes/${nodeId}`)).body.data;
    expect(after).toMatchObject({
      api_token: token,
      cluster_name: MAIN,
      version: node.version,
      ipv4_address: node.ipv4_address,
    });
    expect((await api.get(`/api/v1/enrollment_keys/${attacker.id}`)).body.data.uses_remaining).toBe(5);
    // The real agent's socket is still open and answers.
    agent.send({ type: "ping", id: "p1", sent_at: 1 });
    await agent.next("pong");
    expect(agent.closed).toBeNull();
    agent.ws.close(1000);
  });

  it("is refused with a wrong token", async () => {
    const { nodeId, token } = await enrolled();
    const res = await enrol((await newKey(MAIN)).secret, nodeId, { api_token: "not-the-token" });
    expect(res.status).toBe(409);
    expect(await connectStatus(token)).toBe(101);
  });

  it("never moves a node to another cluster, even with its token", async () => {
    const { nodeId, token } = await enrolled();
    const res = await enrol((await newKey(OTHER)).secret, nodeId, { api_token: token });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/another cluster/);
    expect((await api.get(`/api/v1/nodes/${nodeId}`)).body.data).toMatchObject({
      cluster_name: MAIN,
      api_token: token,
    });
  });
});

describe("deleting a node", () => {
  it("lets the id enrol again as a new node", async () => {
    const { nodeId, node } = await enrolled();
    expect((await api.del(`/api/v1/nodes/${nodeId}`)).status).toBe(204);
    const again = await enrol((await newKey(MAIN)).secret, nodeId);
    expect(again.status).toBe(201);
    expect(again.body.data.inserted_at >= node.inserted_at).toBe(true);
  });

  it("with block_reenroll=true refuses the id (403) until the tombstone is deleted", async () => {
    const { nodeId } = await enrolled();
    expect((await api.del(`/api/v1/nodes/${nodeId}?block_reenroll=true`)).status).toBe(204);
    const key = await newKey(MAIN);
    const refused = await enrol(key.secret, nodeId);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
    expect((await api.get(`/api/v1/enrollment_keys/${key.id}`)).body.data.uses_remaining).toBe(5);

    const list = await api.get(`/api/v1/node_tombstones?node_id=${nodeId}`);
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([
      { node_id: nodeId, cluster_name: MAIN, hostname: "host-a", inserted_at: expect.any(String) },
    ]);
    expect(list.body.meta.pagination).toMatchObject({ total_count: 1 });

    expect((await api.del(`/api/v1/node_tombstones/${nodeId}`)).status).toBe(204);
    expect((await api.del(`/api/v1/node_tombstones/${nodeId}`)).status).toBe(404);
    expect((await enrol(key.secret, nodeId)).status).toBe(201);
  });

  it("answers a bad block_reenroll value with 400 and field details", async () => {
    const res = await api.del(`/api/v1/nodes/${crypto.randomUUID()}?block_reenroll=yes`);
    expect(res.status).toBe(400);
    expect(res.body.error.details.block_reenroll).toEqual(["must be true or false"]);
  });
});

describe("PATCH /api/v1/nodes/{id}/rotate_token", () => {
  it("issues a new token, pushes it to the connected agent and refuses the old one", async () => {
    const { nodeId, token } = await enrolled();
    const agent = await connectAgent(api, token);
    agent.hello();
    await agent.next("config");
    const res = await api.patch(`/api/v1/nodes/${nodeId}/rotate_token`);
    expect(res.status).toBe(200);
    const fresh = res.body.data.api_token as string;
    expect(fresh).not.toBe(token);
    const pushed = await agent.next("token_rotated");
    expect(pushed.api_token).toBe(fresh);
    agent.send({ type: "token_stored" });
    expect(await connectStatus(token)).toBe(401);
    agent.ws.close(1000);
    expect(await connectStatus(fresh)).toBe(101);
  });

  it("answers 404 for an unknown node", async () => {
    expect((await api.patch(`/api/v1/nodes/${crypto.randomUUID()}/rotate_token`)).status).toBe(404);
  });
});

describe("PATCH /api/v1/nodes/{id}/revoke_token", () => {
  it("invalidates the token, closes the socket with 4001, and the node enrols again in its own cluster only", async () => {
    const { nodeId, token, node } = await enrolled();
    const agent = await connectAgent(api, token);
    agent.hello();
    await agent.next("config");
    expect((await api.patch(`/api/v1/nodes/${nodeId}/revoke_token`)).status).toBe(200);
    expect((await agent.waitClosed()).code).toBe(4001);
    expect(await connectStatus(token)).toBe(401);

    expect((await enrol((await newKey(OTHER)).secret, nodeId)).status).toBe(409);
    const again = await enrol((await newKey(MAIN)).secret, nodeId);
    expect(again.status).toBe(201);
    expect(again.body.data).toMatchObject({
      id: nodeId,
      cluster_name: MAIN,
      ipv4_address: node.ipv4_address,
    });
    expect(await connectStatus(again.body.data.api_token)).toBe(101);
    // Revocation was a one-time pass: the next enrolment needs the new token again.
    expect((await enrol((await newKey(MAIN)).secret, nodeId)).status).toBe(409);
  });
});
