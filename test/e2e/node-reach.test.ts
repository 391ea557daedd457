import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { appendFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, copyBundle, startAgent, stopAllAgents, tempDir } from "../support/agent-process";
import { printOutputsOnFailure } from "../support/failure-output";
import { E2E_API_KEY, type Stack, sharedStack } from "../support/stack";

// A real agent on this machine, reached through the shared stack (its own cluster): its processes, a
// log file it is allowed to read, and files it is allowed to move.

const CLUSTER = `reach-${Date.now().toString(36)}`;

describe("reaching into a node", () => {
  let workDir: string;
  let stack: Stack;
  let agent: AgentProcess | undefined;
  let nodeId: string;
  let logs: string;
  let files: string;
  let sleeper: ChildProcess | undefined;

  async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${E2E_API_KEY}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

  beforeAll(async () => {
    workDir = await tempDir("outpost-e2e-reach-");
    logs = join(workDir, "logs");
    files = join(workDir, "files");
    await mkdir(logs);
    await mkdir(files);
    const bundle = await copyBundle(workDir);
    stack = await sharedStack();
    expect((await api("POST", "/api/v1/clusters", { name: CLUSTER })).status).toBe(201);
    const key = await api("POST", `/api/v1/clusters/${CLUSTER}/enrollment_keys`, {});
    agent = startAgent({
      bundle,
      stateDir: join(workDir, "state"),
      env: {
        ENROLLMENT_KEY: key.json.data.key,
        OUTPOST_ID_TYPE: "random",
        OUTPOST_LOG_PATHS: logs,
        OUTPOST_FILE_PATHS: files,
      },
    });
    await agent.waitFor(/INFO\s+connected/);
    nodeId = JSON.parse(await readFile(join(workDir, "state", "identity.json"), "utf8")).node_id;
  });

  afterAll(async () => {
    sleeper?.kill("SIGKILL");
    await stopAllAgents();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  printOutputsOnFailure(() => ({ stack: stack?.output(), agent: agent?.output() }));

  it("lists the test's own sleep, refuses unsafe signals, and signals it away", async () => {
    sleeper = spawn("sleep", ["600"], { stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((r) =>
      sleeper?.on("exit", (_code, signal) => r(signal)),
    );
    const pid = sleeper.pid as number;
    const list = await api("GET", `/api/v1/nodes/${nodeId}/processes?name=sleep&page_size=100`);
    expect(list.status, JSON.stringify(list.json)).toBe(200);
    const mine = list.json.data.find((p: { pid: number }) => p.pid === pid);
    expect(mine).toMatchObject({ name: "sleep", cmdline: "sleep 600", ppid: process.pid });
    const one = await api("GET", `/api/v1/nodes/${nodeId}/processes/${pid}`);
    expect(one.json.data.start_time).toBe(mine.start_time);

    expect(
      (await api("POST", `/api/v1/nodes/${nodeId}/processes/1/signal`, { signal: "SIGTERM" })).status,
    ).toBe(403);
    const self = await api("POST", `/api/v1/nodes/${nodeId}/processes/${agent?.pid}/signal`, {
      signal: "SIGKILL",
    });
    expect(self.status).toBe(403);
    const reused = await api("POST", `/api/v1/nodes/${nodeId}/processes/${pid}/signal`, {
      signal: "SIGTERM",
      start_time: "2001-01-01T00:00:00.000Z",
    });
    expect(reused.status).toBe(409);
    const sent = await api("POST", `/api/v1/nodes/${nodeId}/processes/${pid}/signal`, {
      signal: "SIGTERM",
      start_time: mine.start_time,
    });
    expect(sent.status, JSON.stringify(sent.json)).toBe(200);
    expect(sent.json.data).toEqual({ pid, signal: "SIGTERM", delivered: true });
    expect(await exited).toBe("SIGTERM");
    expect((await api("GET", `/api/v1/nodes/${nodeId}/processes/${pid}`)).status).toBe(404);
  });

  it("queries a log file newest first with filters and cursor paging; refuses paths outside the allowed ones", async () => {
    const path = join(logs, "app.log");
    await writeFile(
      path,
      `${[
        "2026-12-05T05:00:00Z INFO started",
        "2026-12-05T05:00:01Z ERROR disk on fire",
        "2026-12-05T05:00:02Z WARN smoke seen",
        "2026-12-05T05:00:03Z ERROR Fire spreading",
      ].join("\n")}\n`,
    );
    const all = await api("GET", `/api/v1/nodes/${nodeId}/logs?source=file&source_name=${path}&page_size=2`);
    expect(all.status, JSON.stringify(all.json)).toBe(200);
    expect(all.json.data.map((e: { message: string }) => e.message)).toEqual([
      "2026-12-05T05:00:03Z ERROR Fire spreading",
      "2026-12-05T05:00:02Z WARN smoke seen",
    ]);
    expect(all.json.meta.pagination.has_next).toBe(true);
    const next = await api(
      "GET",
      `/api/v1/nodes/${nodeId}/logs?source=file&source_name=${path}&page_size=2&cursor=${all.json.meta.pagination.next_cursor}`,
    );
    expect(next.json.data.map((e: { level: string }) => e.level)).toEqual(["err", "info"]);
    expect(next.json.meta.pagination).toMatchObject({ has_next: false, next_cursor: null });
    const errors = await api(
      "GET",
      `/api/v1/nodes/${nodeId}/logs?source=file&source_name=${path}&level=error&q=FIRE`,
    );
    expect(errors.json.data).toHaveLength(2);
    expect(errors.json.data[0]).toMatchObject({
      node_id: nodeId,
      source: "file",
      level: "err",
      timestamp: "2026-12-05T05:00:03.000Z",
    });
    expect(
      (await api("GET", `/api/v1/nodes/${nodeId}/logs?source=file&source_name=/etc/passwd`)).status,
    ).toBe(403);
    expect(
      (await api("GET", `/api/v1/nodes/${nodeId}/logs?source=file&source_name=${logs}/missing.log`)).status,
    ).toBe(404);
  });

  it("queries journald when the machine has it", async () => {
    const res = await api("GET", `/api/v1/nodes/${nodeId}/logs?source=journald&page_size=5`);
    // 200 with the journal's lines where journalctl exists; 409 naming the lack where it does not.
    expect([200, 409]).toContain(res.status);
    if (res.status === 200) expect(res.json.meta.pagination.page_size).toBe(5);
  });

  it("tails a log file while lines are appended and resumes with Last-Event-ID", async () => {
    const path = join(logs, "tail.log");
    await writeFile(path, "old line\n");
    const open = (lastEventId?: string) =>
      fetch(`${stack.url}/api/v1/nodes/${nodeId}/logs/stream?source=file&source_name=${path}`, {
        headers: {
          Authorization: `Bearer ${E2E_API_KEY}`,
          ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}),
        },
      });
    async function read(res: Response, until: (text: string) => boolean) {
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let text = "";
      const deadline = Date.now() + 15_000;
      while (!until(text) && Date.now() < deadline) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      await reader.cancel();
      return text;
    }
    const first = await open();
    expect(first.status).toBe(200);
    const appending = (async () => {
      await new Promise((r) => setTimeout(r, 500));
      await appendFile(path, "new one\nnew two\n");
    })();
    const text = await read(first, (t) => t.includes("new two"));
    await appending;
    expect(text).not.toContain("old line");
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => m[1]);
    expect(ids).toHaveLength(2);
    await appendFile(path, "after the break\n");
    const resumed = await read(await open(ids[0]), (t) => t.includes("after the break"));
    expect(resumed).toContain("new two");
    expect(resumed).toContain("after the break");
    expect(resumed).not.toContain("new one");
  });

  it("uploads a 20 MiB file and downloads it back byte for byte with matching SHA-256", async () => {
    const bytes = randomBytes(20 * 1024 * 1024);
    const digest = sha256(bytes);
    const dest = join(files, "sub", "blob.bin");
    // The fields before the file: the Worker streams the file on as it arrives.
    const body = new FormData();
    body.set("dest", dest);
    body.set("create_dirs", "true");
    body.set("file", new File([bytes], "blob.bin"));
    const up = await fetch(`${stack.url}/api/v1/nodes/${nodeId}/files`, {
      method: "POST",
      headers: { Authorization: `Bearer ${E2E_API_KEY}` },
      body,
    });
    const upJson = (await up.json()) as { data: unknown };
    expect(up.status, JSON.stringify(upJson)).toBe(201);
    expect(upJson.data).toEqual({ path: dest, size: bytes.length, sha256: digest, mode: "0644" });
    expect(sha256(await readFile(dest))).toBe(digest);
    expect((await readdir(join(files, "sub"))).filter((n) => n.includes("outpost-upload"))).toEqual([]);

    const again = await fetch(`${stack.url}/api/v1/nodes/${nodeId}/files`, {
      method: "POST",
      headers: { Authorization: `Bearer ${E2E_API_KEY}` },
      body,
    });
    expect(again.status).toBe(409);

    const down = await fetch(`${stack.url}/api/v1/nodes/${nodeId}/files?path=${encodeURIComponent(dest)}`, {
      headers: { Authorization: `Bearer ${E2E_API_KEY}` },
    });
    expect(down.status).toBe(200);
    expect(down.headers.get("x-checksum-sha256")).toBe(digest);
    expect(down.headers.get("content-length")).toBe(String(bytes.length));
    const got = new Uint8Array(await down.arrayBuffer());
    expect(got.length).toBe(bytes.length);
    expect(sha256(got)).toBe(digest);

    const dir = await api("GET", `/api/v1/nodes/${nodeId}/files?path=${encodeURIComponent(files)}`);
    expect(dir.status).toBe(400);
    const outside = await api("GET", `/api/v1/nodes/${nodeId}/files?path=/etc/hostname`);
    expect(outside.status).toBe(403);
  });

  it("leaves nothing behind when an upload is cut midway", async () => {
    const dir = join(files, "cut");
    await mkdir(dir);
    const form = new FormData();
    form.set("dest", join(dir, "cut.bin"));
    form.set("file", new File([randomBytes(8 * 1024 * 1024)], "cut.bin"));
    const encoded = new Request("http://x/", { method: "POST", body: form });
    const raw = new Uint8Array(await encoded.arrayBuffer());
    const abort = new AbortController();
    const temps = async () => (await readdir(dir)).filter((n) => n.includes("outpost-upload"));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent >= 3 * 1024 * 1024) {
          // Midway: the agent is writing its temporary file; then the client goes away.
          const deadline = Date.now() + 15_000;
          while ((await temps()).length === 0 && Date.now() < deadline)
            await new Promise((r) => setTimeout(r, 100));
          expect(await temps()).toHaveLength(1);
          abort.abort();
          controller.error(new Error("cut"));
          return;
        }
        controller.enqueue(raw.slice(sent, sent + 64 * 1024));
        sent += 64 * 1024;
      },
    });
    await fetch(`${stack.url}/api/v1/nodes/${nodeId}/files`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${E2E_API_KEY}`,
        "Content-Type": encoded.headers.get("content-type") as string,
      },
      body,
      duplex: "half",
      signal: abort.signal,
    } as RequestInit).catch(() => undefined);
    expect(sent).toBeGreaterThanOrEqual(3 * 1024 * 1024);
    const deadline = Date.now() + 20_000;
    while ((await readdir(dir)).length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(await readdir(dir)).toEqual([]);
  });
});
