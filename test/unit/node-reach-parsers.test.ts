import { describe, expect, it } from "vitest";
import { journalEntry, lineLevel, lineTimestamp, matches } from "../../agent/rpc/log-lines";
import { allowedPath, reachPolicy } from "../../agent/rpc/policy";
import { parseStat, signalName } from "../../agent/rpc/processes";
import { ListQueryError } from "../../src/list-query/engine";
import { applyMemoryQuery, parseMemoryQuery, wildcardMatch } from "../../src/list-query/memory";
import { processListSpec } from "../../src/processes/list";
import { encodeServerFrame, parseAgentFrame, parseServerFrame } from "../../src/protocol/frames";

describe("rpc and stream frames", () => {
  it("round-trip through the catalog and refuse unknown methods and oversized batches", () => {
    const rpc = encodeServerFrame({
      type: "rpc",
      id: "r1",
      method: "processes.list",
      params: {},
      deadline_ms: 1,
    });
    expect(parseServerFrame(rpc)).toMatchObject({ frame: { type: "rpc", method: "processes.list" } });
    expect(
      "error" in
        parseServerFrame(
          JSON.stringify({ v: 1, type: "rpc", id: "r", method: "shell.run", params: {}, deadline_ms: 1 }),
        ),
    ).toBe(true);
    const items = Array.from({ length: 501 }, () => "x");
    expect(
      "error" in
        parseAgentFrame(JSON.stringify({ v: 1, type: "stream_data", stream_id: "s", seq: 0, items })),
    ).toBe(true);
    expect(
      parseAgentFrame(
        JSON.stringify({
          v: 1,
          type: "rpc_result",
          id: "r",
          ok: false,
          error: { code: "policy", message: "no" },
        }),
      ),
    ).toMatchObject({
      frame: { error: { code: "policy" } },
    });
  });
});

describe("/proc parsing", () => {
  it("reads a stat line whose name holds spaces and parentheses", () => {
    const stat =
      "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 12345 1000000 200 18446744073709551615";
    expect(parseStat(stat)).toEqual({
      name: "my (odd) proc",
      state: "S",
      ppid: 1,
      ticks: 300,
      threads: 3,
      startTicks: 12345,
    });
  });

  it("maps signal names and this architecture's numbers to the allow-list only", () => {
    expect(signalName("SIGTERM")).toBe("SIGTERM");
    expect(signalName(9)).toBe("SIGKILL");
    expect(() => signalName(11)).toThrow(/not allowed/);
  });
});

describe("log lines", () => {
  it("reads RFC 3339 and syslog timestamps (syslog has no year) and levels with aliases", () => {
    expect(lineTimestamp("2026-12-05T05:00:00.5Z ERROR boom")).toBe(Date.parse("2026-12-05T05:00:00.5Z"));
    const now = Date.parse("2026-01-02T00:00:00Z");
    expect(new Date(lineTimestamp("Dec 31 23:00:00 host app: x", now) ?? 0).getFullYear()).toBe(2025);
    expect(lineTimestamp("no time here")).toBeNull();
    expect(lineLevel("something [WARN] odd")).toBe("warning");
    expect(lineLevel("an Error happened")).toBe("err");
    expect(lineLevel("all fine")).toBeNull();
  });

  it("reads journald JSON, including a MESSAGE given as bytes", () => {
    const e = journalEntry(
      JSON.stringify({
        __CURSOR: "s=1",
        __REALTIME_TIMESTAMP: "1796446800000000",
        PRIORITY: "3",
        MESSAGE: [104, 105],
        _PID: "7",
        _SYSTEMD_UNIT: "x.service",
      }),
    );
    expect(e).toMatchObject({
      id: "s=1",
      level: "err",
      message: "hi",
      source_name: "x.service",
      fields: { pid: "7" },
    });
    expect(journalEntry("not json")).toBeNull();
    expect(matches(e!, { source: "journal", levels: ["warning"] })).toBe(false);
    expect(matches(e!, { source: "journal", q: "HI" })).toBe(true);
  });
});

describe("agent reach policy", () => {
  it("defaults to logs under /var/log, no file paths, and never the state directory", () => {
    const policy = reachPolicy({}, "/var/log/outpost-state");
    expect(policy).toMatchObject({
      files: true,
      signals: true,
      logs: true,
      docker: false,
      dockerSocket: "/var/run/docker.sock",
      filePaths: [],
      logPaths: ["/var/log"],
    });
    expect(
      reachPolicy({ OUTPOST_DOCKER_LOGS: "on", OUTPOST_DOCKER_SOCKET: "/run/d.sock" }, "/s"),
    ).toMatchObject({
      docker: true,
      dockerSocket: "/run/d.sock",
    });
    expect(allowedPath(policy, policy.logPaths, "/var/log/syslog")).toBe(true);
    expect(allowedPath(policy, policy.logPaths, "/var/log/outpost-state/identity.json")).toBe(false);
    expect(allowedPath(policy, policy.logPaths, "/var/logs-elsewhere/x")).toBe(false);
    expect(reachPolicy({ OUTPOST_FILES: "off", OUTPOST_FILE_PATHS: "/srv,/tmp/x" }, "/s")).toMatchObject({
      files: false,
      filePaths: ["/srv", "/tmp/x"],
    });
    expect(() => reachPolicy({ OUTPOST_SIGNALS: "maybe" }, "/s")).toThrow(/OUTPOST_SIGNALS/);
    expect(() => reachPolicy({ OUTPOST_LOG_PATHS: "relative/dir" }, "/s")).toThrow(/absolute/);
  });
});

describe("in-memory list engine", () => {
  const procs = [3, 1, 2].map((pid) => ({
    pid,
    ppid: 0,
    name: pid === 2 ? "Nginx" : `p${pid}`,
    cmdline: "",
    user: "root",
    state: "S",
    cpu_percent: pid * 10,
    memory_bytes: 0,
    threads: 1,
    start_time: new Date(pid * 1000).toISOString(),
  }));

  it("matches wildcards case-insensitively and exactly without one", () => {
    expect(wildcardMatch("ngin*", "Nginx")).toBe(true);
    expect(wildcardMatch("ngin", "nginx")).toBe(false);
    expect(wildcardMatch("a.b", "axb")).toBe(false);
  });

  it("filters, sorts and pages; refuses unknown parameters and sort fields", () => {
    const q = parseMemoryQuery(
      new URLSearchParams("order_by=cpu_percent&order_directions=desc&page_size=2"),
      processListSpec,
    );
    const page = applyMemoryQuery(procs, processListSpec, q);
    expect(page.data.map((p) => p.pid)).toEqual([3, 2]);
    expect(page.pagination).toMatchObject({ total_count: 3, total_pages: 2, has_next: true });
    const named = applyMemoryQuery(
      procs,
      processListSpec,
      parseMemoryQuery(new URLSearchParams("name=nginx"), processListSpec),
    );
    expect(named.data.map((p) => p.pid)).toEqual([2]);
    expect(() => parseMemoryQuery(new URLSearchParams("colour=red"), processListSpec)).toThrow(
      ListQueryError,
    );
    expect(() => parseMemoryQuery(new URLSearchParams("order_by=name"), processListSpec)).toThrow(
      ListQueryError,
    );
  });
});
