import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerLogSplitter, timeKey } from "../../../agent/rpc/docker-logs";
import { family } from "../../../agent/rpc/logs";
import { type ReachPolicy, RpcFailure } from "../../../agent/rpc/policy";
import type { StreamSender } from "../../../agent/rpc/stream-sender";

// The agent's Docker log source against a stand-in Engine API on a unix socket (this machine has no
// Docker daemon): the requests it makes, the 8-byte multiplexed frames it reads, paging and a tail.

let dir: string;
let server: Server;
const requests: string[] = [];
let follow: ServerResponse | undefined;

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

const LINES = [
  [1, "2026-12-05T08:00:00.000000001Z INFO web started\n"],
  [2, "2026-12-05T08:00:01.5Z ERROR db refused\n"],
  [1, "2026-12-05T08:00:02.25Z WARN slow request\n"],
  [2, "2026-12-05T08:00:03Z ERROR db refused again\n"],
] as const;

function policy(extra: Partial<ReachPolicy> = {}): ReachPolicy {
  return {
    files: false,
    signals: false,
    logs: true,
    docker: true,
    dockerSocket: join(dir, "docker.sock"),
    filePaths: [],
    logPaths: [],
    stateDir: join(dir, "state"),
    ...extra,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "outpost-docker-"));
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const url = new URL(req.url ?? "/", "http://docker");
    if (url.pathname === "/containers/web/json") {
      res.end(JSON.stringify({ Config: { Tty: false } }));
      return;
    }
    if (url.pathname !== "/containers/web/logs") {
      res.statusCode = 404;
      res.end(JSON.stringify({ message: "No such container" }));
      return;
    }
    res.setHeader("content-type", "application/vnd.docker.multiplexed-stream");
    if (url.searchParams.get("follow") === "1") {
      follow = res;
      res.write(frame(1, "2026-12-05T09:00:00Z INFO tail one\n"));
      return;
    }
    const until = url.searchParams.get("until");
    for (const [stream, line] of LINES) {
      if (until && Date.parse(line.slice(0, line.indexOf(" "))) / 1000 > Number(until) + 1) continue;
      // One line split over two frames: the reader joins them.
      const cut = Math.floor(line.length / 2);
      res.write(Buffer.concat([frame(stream, line.slice(0, cut)), frame(stream, line.slice(cut))]));
    }
    res.end();
  });
  await new Promise<void>((r) => server.listen(join(dir, "docker.sock"), r));
});

afterAll(async () => {
  follow?.end();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

const query = (params: Record<string, unknown>, p = policy()) =>
  family.call("logs.query", { source: "docker", source_name: "web", limit: 100, ...params }, p) as Promise<{
    entries: { id: string; message: string; level: string; fields: Record<string, unknown> }[];
    next_cursor: string | null;
    scan_truncated: boolean;
  }>;

describe("docker logs through the Engine API socket", () => {
  it("reads a container's log newest first, with levels, streams and timestamps, and pages by cursor", async () => {
    const all = await query({});
    expect(all.entries.map((e) => e.message)).toEqual([
      "ERROR db refused again",
      "WARN slow request",
      "ERROR db refused",
      "INFO web started",
    ]);
    expect(all.entries[0]).toMatchObject({
      id: "2026-12-05T08:00:03.000000000Z",
      timestamp: "2026-12-05T08:00:03.000Z",
      source: "docker",
      source_name: "web",
      level: "err",
      fields: { stream: "stderr" },
    });
    expect(requests.at(-1)).toMatch(/^\/containers\/web\/logs\?stdout=1&stderr=1&timestamps=1&tail=10000$/);

    const first = await query({ limit: 2, levels: ["err", "warning"] });
    expect(first.entries.map((e) => e.message)).toEqual(["ERROR db refused again", "WARN slow request"]);
    expect(first.next_cursor).toBe("2026-12-05T08:00:02.250000000Z");
    const second = await query({ limit: 2, levels: ["err", "warning"], cursor: first.next_cursor });
    expect(requests.at(-1)).toContain("until=1796457602.250000000");
    expect(second.entries.map((e) => e.message)).toEqual(["ERROR db refused"]);
    expect(second.next_cursor).toBeNull();
  });

  it("is refused unless the host owner switched it on, and maps a missing container and socket", async () => {
    const code = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e) => (e instanceof RpcFailure ? e.code : String(e)),
      );
    expect(await code(query({}, policy({ docker: false })))).toBe("policy");
    expect(await code(query({ source_name: "../etc" }))).toBe("bad_request");
    expect(await code(query({ source_name: "db" }))).toBe("not_found");
    expect(await code(query({}, policy({ dockerSocket: join(dir, "none.sock") })))).toBe("unsupported");
  });

  it("tails a container's log until stopped", async () => {
    const pushed: unknown[][] = [];
    const sender = {
      stopped: false,
      push: async (items: unknown[]) => {
        pushed.push(items);
        return true;
      },
    } as unknown as StreamSender;
    const tail = family.stream?.("logs.tail", { source: "docker", source_name: "web" }, sender, policy());
    while (pushed.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(requests.at(-1)).toBe("/containers/web/logs?follow=1&stdout=1&stderr=1&timestamps=1&tail=0");
    expect(pushed[0]).toMatchObject([{ message: "INFO tail one", id: "2026-12-05T09:00:00.000000000Z" }]);
    (sender as { stopped: boolean }).stopped = true;
    await tail;
  });

  it("splits multiplexed frames and raw TTY output into lines", () => {
    const mux = new DockerLogSplitter(false);
    const bytes = Buffer.concat([frame(1, "a\nb"), frame(2, "c\n"), frame(1, "d\n")]);
    expect([...mux.push(bytes.subarray(0, 5)), ...mux.push(bytes.subarray(5))]).toEqual([
      { stream: "stdout", line: "a" },
      { stream: "stderr", line: "c" },
      { stream: "stdout", line: "bd" },
    ]);
    const tty = new DockerLogSplitter(true);
    expect(tty.push(Buffer.from("x\r\ny"))).toEqual([{ stream: "stdout", line: "x" }]);
    expect(tty.end()).toEqual([{ stream: "stdout", line: "y" }]);
    expect(timeKey("2026-12-05T08:00:01.5Z")).toBe("2026-12-05T08:00:01.500000000Z");
  });
});
