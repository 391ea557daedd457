// The `outpost` CLI end to end: the bundled CLI (npm run cli:build) as a child process against the
// shared stack (libSQL dev server, `wrangler dev`; names unique to this file) with a real agent enrolled through the install
// command the CLI printed. Login with a user, keys, nodes, run (live output, exit codes), tokens,
// and the error lines (API message and request id).
import { execFile } from "node:child_process";
import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli } from "../../scripts/build-cli.mjs";
import { type AgentProcess, copyBundle, node20, stopAllAgents, tempDir } from "../support/agent-process";
import { type Api, apiClient, waitUntil } from "../support/command-helpers";
import { printOutputsOnFailure } from "../support/failure-output";
import { connectAgent, createCluster, uniqueName } from "../support/fleet";
import { type Stack, sharedStack } from "../support/stack";

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const PASSWORD = "correct horse battery staple";
// The shared stack: names unique to this file, and every list narrowed to them.
const CLUSTER = uniqueName("clidemo");
const USER = uniqueName("cli-admin");
const TAG = uniqueName("web");
const TOKEN = uniqueName("ci-read");

describe("outpost CLI", () => {
  let stack: Stack;
  let workDir: string;
  let cliBundle: string;
  let configHome: string;
  let api: Api;
  let agent: AgentProcess | undefined;
  let nodeId: string;
  let hostname: string;

  /** Runs the CLI with only PATH, HOME and XDG_CONFIG_HOME (plus `env`) in its environment. */
  function cli(args: string[], options: { env?: Record<string, string>; input?: string } = {}) {
    return new Promise<CliResult>((resolve) => {
      const child = execFile(
        node20(),
        [cliBundle, ...args],
        {
          env: {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            HOME: workDir,
            XDG_CONFIG_HOME: configHome,
            ...options.env,
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(options.input ?? "");
    });
  }

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-cli-");
    configHome = join(workDir, "config");
    cliBundle = await buildCli();
    stack = await sharedStack();
    api = apiClient(() => stack.url);
    await createCluster(api, CLUSTER);
    const user = await api("POST", "/api/v1/users", {
      username: USER,
      password: PASSWORD,
      roles: ["admin"],
    });
    expect(user.status).toBe(201);
  });

  afterAll(async () => {
    await stopAllAgents();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  printOutputsOnFailure(() => ({
    "stack output": stack?.output(),
    agent: { text: agent?.output(), lines: 20 },
  }));

  it("logs in with a user and password and stores the session with mode 0600", async () => {
    const result = await cli(["login", stack.url, "--username", USER, "--password-stdin"], {
      input: `${PASSWORD}\n`,
    });
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain(`logged in to ${stack.url} as ${USER}`);
    expect(result.code).toBe(0);
    const file = join(configHome, "outpost/config.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(configHome, "outpost"))).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(await readFile(file, "utf8"));
    expect(stored).toMatchObject({ url: stack.url, kind: "session", username: USER });
    expect(stored.token).toMatch(/^ots_/);
  });

  it("refuses a wrong password with the API's message and request id", async () => {
    const result = await cli(["login", stack.url, "-u", USER, "--password-stdin"], {
      input: "not the password",
      env: { XDG_CONFIG_HOME: join(workDir, "other-config") },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^outpost: .+\n {2}\(HTTP 401, unauthorized, request id \S+\)\n$/);
  });

  it("creates an enrollment key and prints an install command that keeps the key out of the URL", async () => {
    const result = await cli(["keys", "create", "--cluster", CLUSTER, "--uses", "1"]);
    expect(result.code).toBe(0);
    const command = result.stdout.trim();
    const match = command.match(/^curl -fsSL '([^']+)' \| sudo ENROLLMENT_KEY='([A-Za-z0-9+/=_-]+)' sh$/);
    expect(match?.[1]).toBe(`${stack.url}/install.sh`);
    const key = match![2];
    expect(result.stderr).toContain(`cluster ${CLUSTER}`);

    // The agent enrols with exactly that key (the installer itself is tested in install-script.test.ts).
    const bundle = await copyBundle(workDir);
    const stateDir = join(workDir, "agent-state");
    ({ agent, nodeId } = await connectAgent({ bundle, stateDir, key, heartbeatSeconds: 1 }));
    await waitUntil("the node is healthy", async () => {
      const res = await api("GET", `/api/v1/nodes/${nodeId}`);
      return res.json?.data?.status === "healthy" && res.json.data.hostname ? true : undefined;
    });
    hostname = (await api("GET", `/api/v1/nodes/${nodeId}`)).json.data.hostname;
  });

  it("lists nodes as JSON and as a table, with filters as flags", async () => {
    const json = await cli(["nodes", "ls", "--json", "--cluster-name", CLUSTER]);
    expect(json.code).toBe(0);
    const nodes = JSON.parse(json.stdout);
    expect(nodes.map((n: { id: string }) => n.id)).toEqual([nodeId]);
    expect(nodes[0]).toMatchObject({ cluster_name: CLUSTER, status: "healthy", hostname });

    const table = await cli(["nodes", "ls", "--status", "healthy", "--cluster-name", CLUSTER]);
    expect(table.code).toBe(0);
    const [header, row] = table.stdout.trim().split("\n");
    expect(header).toMatch(/^ID\s+HOSTNAME\s+STATUS\s+CLUSTER/);
    expect(row).toContain(nodeId);
    expect(row).toContain("healthy");

    const none = await cli(["nodes", "ls", "--json", "--status", "unreachable", "--cluster-name", CLUSTER]);
    expect(JSON.parse(none.stdout)).toEqual([]);

    const tagged = await cli(["nodes", "tag", nodeId, TAG, "env:test"]);
    expect(tagged.code).toBe(0);
    const byTag = JSON.parse((await cli(["nodes", "ls", "--json", "--tags", TAG])).stdout);
    expect(byTag.map((n: { id: string; tags: string[] }) => [n.id, n.tags])).toEqual([
      [nodeId, [TAG, "env:test"]],
    ]);
  });

  it("runs a command on the agent: output prefixed by hostname, exit-code summary, exit 0", async () => {
    const result = await cli(["run", "--node", nodeId, "--", "echo first; sleep 0.3; echo second"]);
    expect(result.stderr).toContain("1 node(s) — exit 0: 1");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${hostname} | first\n${hostname} | second\n`);
  });

  it("exits non-zero and names the node when a command fails there", async () => {
    const result = await cli(["run", "--tags", TAG, "--", "echo broken >&2; exit 3"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${hostname} | broken`);
    expect(result.stderr).toContain("exit 3: 1");
    expect(result.stderr).toContain(`failed on 1: ${hostname} (exit 3)`);

    // --all, narrowed by the tag to this file's node (the shared stack has other files' nodes).
    const json = await cli(["--json", "run", "--all", "--tags", TAG, "--", "echo json"]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.summary).toMatchObject({ total: 1, exit_codes: { "0": 1 } });
    expect(report.executions[0]).toMatchObject({ node_id: nodeId, hostname, exit_code: 0, output: "json\n" });
  });

  it("refuses to run without a target", async () => {
    const result = await cli(["run", "--", "true"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("say where to run it");
  });

  it("creates, lists and revokes API tokens; OUTPOST_URL/OUTPOST_TOKEN override the stored login", async () => {
    const created = await cli(["tokens", "create", "--name", TOKEN, "--scope", "nodes:read"]);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^otp_/);

    const env = {
      OUTPOST_URL: stack.url,
      OUTPOST_TOKEN: secret,
      XDG_CONFIG_HOME: join(workDir, "empty-config"),
    };
    const listed = await cli(["nodes", "ls", "--json", "--cluster-name", CLUSTER], { env });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).map((n: { id: string }) => n.id)).toContain(nodeId);

    // nodes:read only: running a command is refused with the API's message and its request id.
    const refused = await cli(["run", "--all", "--tags", TAG, "--", "true"], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\(HTTP 403, forbidden, request id \S+\)/);

    const tokens = JSON.parse((await cli(["tokens", "ls", "--json"])).stdout);
    const token = tokens.find((t: { name: string }) => t.name === TOKEN);
    expect(token).toMatchObject({ scopes: ["nodes:read"], revoked: false });
    expect(secret.startsWith(token.prefix)).toBe(true);

    expect((await cli(["tokens", "revoke", token.id])).code).toBe(0);
    const afterRevoke = await cli(["nodes", "ls"], { env });
    expect(afterRevoke.code).toBe(1);
    expect(afterRevoke.stderr).toMatch(/HTTP 401, unauthorized, request id/);
  });

  it("reports a missing node, a server without logs routes, and prints metrics sparklines", async () => {
    const missing = await cli(["nodes", "show", "00000000-0000-4000-8000-000000000000"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/HTTP 404, not_found, request id \S+/);

    const logs = await cli(["logs", nodeId]);
    if (logs.code !== 0) expect(logs.stderr).toContain("logs are not supported by this server");

    // By id: every agent of the suite runs on this machine, so on the shared stack its hostname
    // names several nodes (the CLI then asks for an id).
    const metrics = await cli(["metrics", nodeId, "--range", "1h"]);
    expect(metrics.code).toBe(0);
    expect(metrics.stdout).toMatch(/^cpu\s+\S/m);
    expect(metrics.stdout).toMatch(/^memory\s+.*avg \d+\.\d%/m);
  });

  it("prints completion scripts that the shells accept", async () => {
    const bash = await cli(["completion", "bash"]);
    expect(bash.stdout).toContain("complete -o default -F _outpost outpost");
    expect(bash.stdout).toContain('"nodes ls")');
    const check = await new Promise<number>((resolve) =>
      execFile("bash", ["-n", "-c", bash.stdout], (error) => resolve(error ? 1 : 0)),
    );
    expect(check).toBe(0);
    expect((await cli(["completion", "fish"])).stdout).toContain("complete -c outpost");
    expect((await cli(["completion", "zsh"])).stdout).toContain("bashcompinit");
  });
});
