import { beforeAll, describe, expect, it } from "vitest";
import { inOneWindow } from "../support/rate-limit-window";
import { enrolNode } from "./agent-session";
import { createTestApi, type TestApi } from "./harness";

// Review M7: no timing oracle for usernames, and password guessing is limited per node and username.
// Node auth reads the root database, so this file shares it under a unique cluster name.
const CLUSTER = `sp${crypto.randomUUID().slice(0, 6)}`;
let api: TestApi;
let node: { nodeId: string; token: string };

beforeAll(async () => {
  api = await createTestApi({ RATE_LIMIT_SSH_PASSWORD_PER_MINUTE: "10" }, { sharedDatabase: true });
  expect((await api.post("/api/v1/clusters", { name: CLUSTER })).status).toBe(201);
  node = await enrolNode(api, CLUSTER);
  for (const username of ["deploy", "keysonly"]) {
    const body = username === "deploy" ? { username, password: "right password here" } : { username };
    expect((await api.post(`/api/v1/nodes/${node.nodeId}/ssh_usernames`, body)).status).toBe(201);
  }
});

async function check(username: string, password: string) {
  const started = performance.now();
  const res = await api.fetch("/agent/v1/ssh/verify_password", {
    method: "POST",
    auth: null,
    headers: { authorization: `Bearer ${node.token}` },
    json: { username, password },
  });
  const body = await res.json<any>();
  return {
    status: res.status,
    body,
    ms: performance.now() - started,
    retryAfter: res.headers.get("retry-after"),
  };
}

describe("SSH password checks", () => {
  it("cost the same Argon2id work for an unknown user or one without a password as for a wrong password", async () => {
    const fastest = async (username: string) => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await check(username, `guess-${i}`);
        expect(res.status).toBe(401);
        expect(res.body.error.message).toBe("Invalid username or password");
        times.push(res.ms);
      }
      return Math.min(...times);
    };
    const wrong = await fastest("deploy");
    const unknown = await fastest(`nobody${crypto.randomUUID().slice(0, 6)}`);
    const noPassword = await fastest("keysonly");
    // Without the dummy check an unknown user answered in a few ms against ~100+ ms of Argon2; a
    // quarter leaves room for a loaded machine (one CI run saw 163 ms against 336 ms) and still
    // catches a missing check.
    expect(unknown).toBeGreaterThan(wrong * 0.25);
    expect(noPassword).toBeGreaterThan(wrong * 0.25);
  });

  it("limits checks per node and username (429, Retry-After), not other usernames", async () => {
    const limited = await inOneWindow(async () => {
      const user = `guessme${crypto.randomUUID().slice(0, 6)}`;
      for (let i = 0; i < 10; i++) expect((await check(user, "x")).status).toBe(401);
      return check(user, "x");
    });
    expect(limited.status).toBe(429);
    expect(limited.retryAfter).toBe("60");
    expect(limited.body.error.code).toBe("rate_limited");
    // Refused before the Argon2 work.
    expect(limited.ms).toBeLessThan(100);
    expect((await check(`other${crypto.randomUUID().slice(0, 6)}`, "x")).status).toBe(401);
  });
});
