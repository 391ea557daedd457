import { beforeAll, describe, expect, it } from "vitest";
import { type connectAgent, connectedAgent, enrolNode } from "./agent-session";
import { api, makeCluster, P, setUpNodes, startNodesFile } from "./nodes-fixture";

startNodesFile();

type Agent = Awaited<ReturnType<typeof connectAgent>>;

function entry(id: string, message: string) {
  return {
    id,
    timestamp: "2026-12-05T05:00:00.000Z",
    source: "file",
    source_name: "/var/log/app.log",
    level: "err",
    message,
    fields: {},
  };
}

/** Plays the agent: every `rpc` and `stream_start` frame goes to `on`. */
function serve(agent: Agent, on: (frame: any) => void) {
  agent.ws.addEventListener("message", (e) => {
    const frame = JSON.parse(String(e.data));
    if (frame.type === "rpc" || frame.type.startsWith("stream_")) on(frame);
  });
}

function connected(capabilities: string[] = ["logs.v1"]) {
  return connectedAgent(api, `${P}-c`, capabilities);
}

/** Reads SSE text from a response until `done(text)` or the time runs out. */
async function readSse(res: Response, done: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  while (!done(text) && Date.now() < deadline) {
    const chunk = await Promise.race([
      reader.read(),
      new Promise<{ done: true; value: undefined }>((r) =>
        setTimeout(() => r({ done: true, value: undefined }), deadline - Date.now()),
      ),
    ]);
    if (chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  await reader.cancel().catch(() => undefined);
  return text;
}

beforeAll(async () => {
  await setUpNodes();
  await makeCluster(`${P}-c`);
});

describe("node log query", () => {
  it("passes the filters to the agent and pages by cursor, without totals", async () => {
    const { nodeId, agent } = await connected();
    const asked: any[] = [];
    serve(agent, (frame) => {
      asked.push(frame);
      agent.send({
        type: "rpc_result",
        id: frame.id,
        ok: true,
        result: {
          entries: [entry("120", "boom"), entry("80", "bang")],
          next_cursor: "40",
          scan_truncated: true,
        },
      });
    });
    const res = await api.get(
      `/api/v1/nodes/${nodeId}/logs?source=file&source_name=/var/log/app.log&level=error,warn&q=B&from=2026-12-01T00:00:00Z&page_size=2`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.map((e: any) => [e.id, e.node_id])).toEqual([
      ["120", nodeId],
      ["80", nodeId],
    ]);
    expect(res.body.meta.pagination).toEqual({ page_size: 2, has_next: true, next_cursor: "40" });
    expect(res.body.meta.scan_truncated).toBe(true);
    expect(asked[0]).toMatchObject({
      method: "logs.query",
      params: {
        source: "file",
        source_name: "/var/log/app.log",
        levels: ["err", "warning"],
        q: "B",
        since: Date.parse("2026-12-01T00:00:00Z"),
        limit: 2,
      },
    });
    agent.ws.close(1000, "bye");
  });

  it("accepts journald as an alias and refuses unknown levels and reversed ranges with 400", async () => {
    const { nodeId, agent } = await connected();
    const sources: string[] = [];
    serve(agent, (frame) => {
      sources.push(frame.params.source);
      agent.send({
        type: "rpc_result",
        id: frame.id,
        ok: true,
        result: { entries: [], next_cursor: null, scan_truncated: false },
      });
    });
    const ok = await api.get(`/api/v1/nodes/${nodeId}/logs?source=journald`);
    expect(ok.status).toBe(200);
    expect(ok.body.meta.pagination).toEqual({ page_size: 100, has_next: false, next_cursor: null });
    expect(sources).toEqual(["journal"]);
    const level = await api.get(`/api/v1/nodes/${nodeId}/logs?level=loud`);
    expect(level.status).toBe(400);
    expect(level.body.error.details.level).toBeDefined();
    const range = await api.get(
      `/api/v1/nodes/${nodeId}/logs?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z`,
    );
    expect(range.status).toBe(400);
    agent.ws.close(1000, "bye");
  });

  it("answers 403 for a path the host does not allow and 409 when journald is missing", async () => {
    const { nodeId, agent } = await connected();
    serve(agent, (frame) =>
      agent.send({
        type: "rpc_result",
        id: frame.id,
        ok: false,
        error:
          frame.params.source === "file"
            ? { code: "policy", message: "/etc/shadow is outside the paths this host allows" }
            : { code: "unsupported", message: "journald is not available on this host" },
      }),
    );
    expect((await api.get(`/api/v1/nodes/${nodeId}/logs?source=file&source_name=/etc/shadow`)).status).toBe(
      403,
    );
    expect((await api.get(`/api/v1/nodes/${nodeId}/logs`)).status).toBe(409);
    agent.ws.close(1000, "bye");
  });
});

describe("node log tail", () => {
  it("streams entries as SSE with ids, resumes from Last-Event-ID and stops the agent stream when the client leaves", async () => {
    const { nodeId, agent } = await connected();
    const frames: any[] = [];
    serve(agent, (frame) => {
      frames.push(frame);
      if (frame.type === "stream_start")
        agent.send({
          type: "stream_data",
          stream_id: frame.stream_id,
          seq: 0,
          items: [entry("10", "first"), entry("20", "second")],
        });
    });
    const res = await api.fetch(
      `/api/v1/nodes/${nodeId}/logs/stream?source=file&source_name=/var/log/app.log`,
      {
        headers: { "last-event-id": "5" },
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await readSse(res, (t) => t.includes("second"));
    expect(text).toContain("event: log\nid: 10\n");
    expect(text).toContain("event: log\nid: 20\n");
    expect(text).toContain(`"node_id":"${nodeId}"`);
    const start = frames.find((f) => f.type === "stream_start");
    expect(start).toMatchObject({ kind: "logs.tail", params: { source: "file", resume: "5" } });
    await agent.until(() => frames.some((f) => f.type === "stream_stop"), "stream_stop");
    agent.ws.close(1000, "bye");
  });

  it("cuts past 2,000 lines/s with a dropped event", async () => {
    const { nodeId, agent } = await connected();
    serve(agent, (frame) => {
      if (frame.type !== "stream_start") return;
      for (let seq = 0; seq < 5; seq++) {
        const items = Array.from({ length: 450 }, (_, i) => entry(String(seq * 450 + i + 1), `line ${i}`));
        agent.send({ type: "stream_data", stream_id: frame.stream_id, seq, items });
      }
      setTimeout(
        () =>
          agent.send({
            type: "stream_data",
            stream_id: frame.stream_id,
            seq: 5,
            items: [entry("9999", "later")],
          }),
        1200,
      );
    });
    const res = await api.fetch(
      `/api/v1/nodes/${nodeId}/logs/stream?source=file&source_name=/var/log/app.log`,
    );
    const text = await readSse(res, (t) => t.includes("later"));
    // 2,000 pass at once, and a few more as the bucket refills while the frames arrive; every line
    // is either sent or counted as dropped.
    const sent = (text.match(/event: log\n/g)?.length ?? 0) - 1;
    const dropped = [...text.matchAll(/event: dropped\ndata: \{"count":(\d+)\}/g)].map((m) => Number(m[1]));
    expect(sent).toBeGreaterThanOrEqual(2000);
    expect(sent).toBeLessThan(2250);
    expect(dropped.length).toBeGreaterThan(0);
    expect(sent + dropped.reduce((a, b) => a + b, 0)).toBe(2250);
    agent.ws.close(1000, "bye");
  });

  it("refuses a tail past STREAM_MAX_SUBSCRIBERS_PER_NODE (3 in tests) with 503", async () => {
    const { nodeId, agent } = await connected();
    serve(agent, () => undefined);
    const open = () => api.fetch(`/api/v1/nodes/${nodeId}/logs/stream?source=journal`);
    const streams = [await open(), await open(), await open()];
    expect(streams.map((r) => r.status)).toEqual([200, 200, 200]);
    const fourth = await open();
    expect(fourth.status).toBe(503);
    for (const r of streams) await r.body?.cancel();
    agent.ws.close(1000, "bye");
  });

  it("answers 503 when the node is offline and ends the stream when the agent disconnects", async () => {
    const { nodeId: offline } = await enrolNode(api, `${P}-c`);
    const res503 = await api.fetch(`/api/v1/nodes/${offline}/logs/stream?source=journal`);
    expect(res503.status).toBe(503);
    const { nodeId, agent } = await connected();
    serve(agent, (frame) => {
      if (frame.type === "stream_start") setTimeout(() => agent.ws.close(1000, "bye"), 100);
    });
    const res = await api.fetch(`/api/v1/nodes/${nodeId}/logs/stream?source=journal`);
    const text = await readSse(res, (t) => t.includes("event: end"));
    expect(text).toContain("event: end");
    expect(text).toContain("disconnected");
  });
});
