import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { enrolNode } from "./agent-session";
import {
  api,
  db,
  EXECUTION_FIELDS,
  makeCluster,
  P,
  setUpExecutions,
  startExecutionsFile,
} from "./executions-fixture";

startExecutionsFile();

// The execution list's envelope, pagination, every filter and sort, over rows planted with known
// values. Cluster ranges 5–7 keep apart from the other execution files' (0–4).
beforeAll(() => setUpExecutions());

describe("GET /api/v1/command_executions", () => {
  const L1 = `${P}-l1`;
  const L2 = `${P}-l2`;
  const SCOPE = `cluster_name=${P}-l*`;
  const n: Record<string, string> = {};
  const c: Record<string, string> = {};
  const label: Record<string, string> = {};

  beforeAll(async () => {
    await makeCluster(L1);
    await makeCluster(L2);
    n.a1 = (await enrolNode(api, L1)).nodeId;
    n.a2 = (await enrolNode(api, L1)).nodeId;
    n.b1 = (await enrolNode(api, L2)).nodeId;
    const make = async (key: string, targeting: object) => {
      const res = await api.post("/api/v1/commands", { command_text: `${P} ${key}`, targeting });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      c[key] = res.body.data.id;
    };
    await make("cmd1", { type: "clusters", cluster_names: [L1] });
    await make("cmd2", { type: "nodes", node_ids: [n.a1, n.b1] });
    await make("cmd3", { type: "all", node_filters: { cluster_name: `${P}-l*` } });
    const at = (s: string) => Date.parse(s);
    // label, command, node, status, exit, output, inserted, sent, completed, cancelled
    const plan = [
      [
        "x1",
        "cmd1",
        "a1",
        "completed",
        0,
        "all good\n",
        "2024-12-01T00:00:00Z",
        "2025-01-01T09:59:00Z",
        "2025-01-01T10:00:00Z",
        null,
      ],
      [
        "x2",
        "cmd1",
        "a2",
        "completed",
        2,
        "disk failed: /dev/sda\n",
        "2024-12-02T00:00:00Z",
        "2025-01-02T09:00:00Z",
        "2025-01-02T10:00:00Z",
        null,
      ],
      [
        "x3",
        "cmd2",
        "a1",
        "cancelled",
        143,
        "",
        "2025-01-03T00:00:00Z",
        "2025-01-03T00:00:01Z",
        null,
        "2025-01-03T00:01:00Z",
      ],
      ["x4", "cmd2", "b1", "expired", null, null, "2025-01-04T00:00:00Z", null, null, null],
      ["x5", "cmd3", "a1", "pending", null, null, "2025-01-05T00:00:00Z", null, null, null],
      ["x6", "cmd3", "a2", "pending", null, null, "2025-01-06T00:00:00Z", null, null, null],
      ["x7", "cmd3", "b1", "pending", null, null, "2025-01-07T00:00:00Z", null, null, null],
    ] as const;
    for (const [name, cmd, node, status, exit, output, ins, sent, done, cancelled] of plan) {
      const [row] = await db.all<{ id: string }>(
        sql`SELECT id FROM command_executions WHERE command_id = ${c[cmd]} AND node_id = ${n[node]}`,
      );
      label[row.id] = name;
      await db.run(sql`UPDATE command_executions SET status = ${status}, exit_code = ${exit}, output = ${output},
        inserted_at = ${at(ins)}, updated_at = ${at(ins) + 1000}, sent_at = ${sent && at(sent)},
        completed_at = ${done && at(done)}, cancelled_at = ${cancelled && at(cancelled)} WHERE id = ${row.id}`);
    }
  });

  async function labels(query: string) {
    const res = await api.get(`/api/v1/command_executions?${SCOPE}&${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data.map((e: any) => label[e.id] ?? e.id);
  }

  it("lists in the envelope, oldest first, with the contract's fields", async () => {
    const res = await api.get(`/api/v1/command_executions?${SCOPE}`);
    expect(res.status).toBe(200);
    expect(res.body.data.map((e: any) => label[e.id])).toEqual(["x1", "x2", "x3", "x4", "x5", "x6", "x7"]);
    // Lists add `output_truncated` (outputs are cut to bound a page; M3).
    expect(Object.keys(res.body.data[0]).sort()).toEqual([...EXECUTION_FIELDS, "output_truncated"].sort());
    expect(res.body.data[0]).toMatchObject({
      command_id: c.cmd1,
      node_id: n.a1,
      cluster_name: L1,
      status: "completed",
      exit_code: 0,
      output: "all good\n",
      target_all: false,
      inserted_at: "2024-12-01T00:00:00Z",
      sent_at: "2025-01-01T09:59:00Z",
      completed_at: "2025-01-01T10:00:00Z",
      cancelled_at: null,
    });
  });

  it("paginates", async () => {
    const res = await api.get(`/api/v1/command_executions?${SCOPE}&page=2&page_size=3`);
    expect(res.body.data.map((e: any) => label[e.id])).toEqual(["x4", "x5", "x6"]);
    expect(res.body.meta.pagination).toEqual({
      has_next: true,
      has_prev: true,
      next_page: 3,
      page: 2,
      page_size: 3,
      prev_page: 1,
      total_count: 7,
      total_pages: 3,
    });
  });

  it("filters by the node's cluster, exactly or by wildcard", async () => {
    const get = async (q: string) =>
      (await api.get(`/api/v1/command_executions?${q}`)).body.data.map((e: any) => label[e.id]);
    expect(await get(`cluster_name=${L2}`)).toEqual(["x4", "x7"]);
    expect(await get(`cluster_name=*${P.slice(1)}-l1`)).toEqual(["x1", "x2", "x3", "x5", "x6"]);
    expect(await get(`cluster_name=${P}-l`)).toEqual([]);
  });

  it("filters by command, node, status and target_all", async () => {
    expect(await labels(`command_id=${c.cmd2}`)).toEqual(["x3", "x4"]);
    expect(await labels(`command_id=${c.cmd2.toUpperCase()}`)).toEqual(["x3", "x4"]);
    expect(await labels(`node_id=${n.a1}`)).toEqual(["x1", "x3", "x5"]);
    expect(await labels(`node_id=${n.a1}&command_id=${c.cmd3}`)).toEqual(["x5"]);
    expect(await labels("status=pending")).toEqual(["x5", "x6", "x7"]);
    expect(await labels("status=expired")).toEqual(["x4"]);
    expect(await labels("target_all=true")).toEqual(["x5", "x6", "x7"]);
    expect(await labels("target_all=false")).toEqual(["x1", "x2", "x3", "x4"]);
  });

  it("filters by exit code, exactly and by range", async () => {
    expect(await labels("exit_code=2")).toEqual(["x2"]);
    expect(await labels("exit_code__gte=1")).toEqual(["x2", "x3"]);
    expect(await labels("exit_code__lte=0")).toEqual(["x1"]);
    expect(await labels("exit_code__gte=1&exit_code__lte=100")).toEqual(["x2"]);
  });

  it("searches output exactly or by wildcard, and filters by its presence and the cluster's", async () => {
    expect(await labels(`output=${encodeURIComponent("*failed*")}`)).toEqual(["x2"]);
    expect(await labels(`output=${encodeURIComponent("all*")}`)).toEqual(["x1"]);
    expect(await labels(`output=${encodeURIComponent("all good\n")}`)).toEqual(["x1"]);
    expect(await labels("output=failed")).toEqual([]);
    expect(await labels(`output=${encodeURIComponent("*FAILED*")}`)).toEqual([]);
    expect(await labels("has_output=true")).toEqual(["x1", "x2"]);
    expect(await labels("has_output=false")).toEqual(["x3", "x4", "x5", "x6", "x7"]);
    expect(await labels("has_cluster=true")).toEqual(["x1", "x2"]);
    expect(await labels("has_cluster=false")).toEqual(["x3", "x4", "x5", "x6", "x7"]);
  });

  it("filters by every datetime range", async () => {
    expect(await labels("inserted_at__lte=2024-12-31")).toEqual(["x1", "x2"]);
    expect(await labels("inserted_at__gte=2025-01-06")).toEqual(["x6", "x7"]);
    expect(await labels("updated_at__gte=2025-01-07T00:00:01Z")).toEqual(["x7"]);
    expect(await labels("updated_at__lte=2024-12-01T00:00:00Z")).toEqual([]);
    expect(await labels("sent_at__gte=2025-01-02")).toEqual(["x2", "x3"]);
    expect(await labels("sent_at__lte=2025-01-01")).toEqual(["x1"]);
    expect(await labels("completed_at__gte=2025-01-02T10:00:00Z")).toEqual(["x2"]);
    expect(await labels("completed_at__lte=2025-01-01")).toEqual(["x1"]);
    expect(await labels("cancelled_at__gte=2025-01-03")).toEqual(["x3"]);
    expect(await labels("cancelled_at__lte=2025-01-02")).toEqual([]);
  });

  it("sorts by the requested fields and directions", async () => {
    expect(await labels("order_by=inserted_at&order_directions=desc")).toEqual([
      "x7",
      "x6",
      "x5",
      "x4",
      "x3",
      "x2",
      "x1",
    ]);
    expect(await labels("status=completed&order_by=exit_code&order_directions=desc")).toEqual(["x2", "x1"]);
    expect(await labels(`command_id=${c.cmd1}&order_by=completed_at&order_directions=desc`)).toEqual([
      "x2",
      "x1",
    ]);
    expect(await labels("order_by=status,inserted_at&order_directions=asc,desc")).toEqual([
      "x3",
      "x2",
      "x1",
      "x4",
      "x7",
      "x6",
      "x5",
    ]);
  });

  it("refuses bad parameters with 400 naming them", async () => {
    for (const [query, key] of [
      ["status=running", "status"],
      ["exit_code=x", "exit_code"],
      ["exit_code__gte=1.5", "exit_code__gte"],
      ["command_id=nope", "command_id"],
      ["node_id=nope", "node_id"],
      ["has_output=maybe", "has_output"],
      ["target_all=yes", "target_all"],
      ["sent_at__gte=soon", "sent_at__gte"],
      ["order_by=output", "order_by"],
      ["command_text=x", "command_text"],
    ]) {
      const res = await api.get(`/api/v1/command_executions?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("bad_request");
      expect(Object.keys(res.body.error.details), query).toContain(key);
    }
  });
});
