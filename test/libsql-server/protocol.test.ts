// The libSQL dev server at the HTTP level: endpoints, batons, batch
// conditions, stored SQL, describe, and malformed requests.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTestServer, stmt, type TestServer } from "./helpers";

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
});

describe("endpoints", () => {
  it("answers the version probe and health check", async () => {
    for (const path of ["/v2", "/health", "/some_db/v2"]) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(200);
      await res.arrayBuffer();
    }
    const res = await fetch(`${server.url}/v3-protobuf`);
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  });

  it("rejects malformed JSON and bodies of the wrong shape with 400", async () => {
    const bad = await server.pipeline("{not json");
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: "PROTOCOL_ERROR" });
    expect(bad.body.message).toMatch(/Malformed JSON/);
    expect((await server.pipeline({ baton: null })).status).toBe(400);
    expect((await server.pipeline([1, 2])).status).toBe(400);
  });

  it("rejects invalid namespaces", async () => {
    const long = "x".repeat(65);
    const res = await server.pipeline({ requests: [] }, long);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("NAMESPACE_INVALID");
    const dotted = await fetch(`${server.url}/a.b/v2/pipeline`, { method: "POST", body: "{}" });
    expect(dotted.status).toBe(400);
    expect(await dotted.json()).toMatchObject({ code: "NAMESPACE_INVALID" });
  });

  it("reports an unknown request type as a per-request error", async () => {
    const res = await server.pipeline({
      requests: [{ type: "frobnicate" }, { type: "execute", stmt: stmt("SELECT 1") }, { type: "close" }],
    });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ type: "error", error: { code: "PROTOCOL_ERROR" } });
    expect(res.body.results[1].type).toBe("ok");
    expect(res.body.baton).toBeNull();
  });
});

describe("streams and batons", () => {
  it("keeps a stream open until close, with a new baton each time", async () => {
    const first = await server.pipeline({
      requests: [
        { type: "execute", stmt: stmt("CREATE TABLE t(x)") },
        { type: "execute", stmt: stmt("BEGIN") },
      ],
    });
    expect(first.body.results.map((r: any) => r.type)).toEqual(["ok", "ok"]);
    expect(typeof first.body.baton).toBe("string");
    expect(first.body.base_url).toBeNull();

    const second = await server.pipeline({
      baton: first.body.baton,
      requests: [{ type: "execute", stmt: stmt("INSERT INTO t VALUES (1)") }, { type: "get_autocommit" }],
    });
    expect(second.body.results[1].response.is_autocommit).toBe(false);
    expect(second.body.baton).not.toBe(first.body.baton);

    // a baton works once
    const reused = await server.pipeline({ baton: first.body.baton, requests: [] });
    expect(reused.status).toBe(400);
    expect(reused.body.code).toBe("BATON_REUSED");

    const third = await server.pipeline({
      baton: second.body.baton,
      requests: [{ type: "execute", stmt: stmt("COMMIT") }, { type: "close" }],
    });
    expect(third.body.results.map((r: any) => r.type)).toEqual(["ok", "ok"]);
    expect(third.body.baton).toBeNull();

    const closed = await server.pipeline({ baton: second.body.baton, requests: [] });
    expect(closed.status).toBe(400);
    expect(closed.body.code).toBe("BATON_INVALID");
    const unknown = await server.pipeline({ baton: "nonsense", requests: [] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.code).toBe("BATON_INVALID");
  });

  it("does not let a baton cross into another namespace", async () => {
    const open = await server.pipeline({ requests: [] }, "ns_a");
    const res = await server.pipeline({ baton: open.body.baton, requests: [] }, "ns_b");
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("BATON_INVALID");
  });
});

describe("batch conditions", () => {
  it("evaluates ok, error, not, and, or", async () => {
    const res = await server.pipeline({
      requests: [
        {
          type: "batch",
          batch: {
            steps: [
              { stmt: stmt("SELECT 1") }, // 0 ok
              { stmt: stmt("SELECT * FROM missing") }, // 1 error
              { condition: { type: "ok", step: 0 }, stmt: stmt("SELECT 'ok0'") }, // 2 runs
              { condition: { type: "ok", step: 1 }, stmt: stmt("SELECT 'ok1'") }, // 3 skipped
              { condition: { type: "error", step: 1 }, stmt: stmt("SELECT 'err1'") }, // 4 runs
              { condition: { type: "not", cond: { type: "ok", step: 3 } }, stmt: stmt("SELECT 5") }, // 5 runs
              {
                condition: {
                  type: "and",
                  conds: [
                    { type: "ok", step: 0 },
                    { type: "ok", step: 3 },
                  ],
                },
                stmt: stmt("SELECT 6"),
              }, // 6 skipped
              {
                condition: {
                  type: "or",
                  conds: [
                    { type: "ok", step: 3 },
                    { type: "error", step: 1 },
                  ],
                },
                stmt: stmt("SELECT 7"),
              }, // 7 runs
              { condition: { type: "is_autocommit" }, stmt: stmt("SELECT 8") }, // 8 runs
            ],
          },
        },
        { type: "close" },
      ],
    });
    expect(res.status).toBe(200);
    const { step_results, step_errors } = res.body.results[0].response.result;
    const ran = step_results.map((r: unknown) => r !== null);
    expect(ran).toEqual([true, false, true, false, true, true, false, true, true]);
    expect(step_errors[1]).toMatchObject({ code: "SQLITE_ERROR" });
    expect(step_errors.filter((e: unknown) => e !== null)).toHaveLength(1);
    expect(step_results[2].rows).toEqual([[{ type: "text", value: "ok0" }]]);
  });
});

describe("stored SQL, sequence and describe", () => {
  it("executes by sql_id, honours want_rows, and forgets closed SQL", async () => {
    const res = await server.pipeline({
      requests: [
        { type: "store_sql", sql_id: 1, sql: "SELECT ? + 1 AS n" },
        { type: "execute", stmt: { sql_id: 1, args: [{ type: "integer", value: "41" }] } },
        { type: "execute", stmt: { sql_id: 1, args: [{ type: "integer", value: "1" }], want_rows: false } },
        { type: "close_sql", sql_id: 1 },
        { type: "execute", stmt: { sql_id: 1, args: [] } },
        { type: "sequence", sql: "CREATE TABLE s(x); INSERT INTO s VALUES (1);" },
        { type: "describe", sql: "SELECT x AS y, :p AS p FROM s WHERE x = ?2" },
        { type: "close" },
      ],
    });
    const [store, exec, noRows, closeSql, missing, seq, desc, close] = res.body.results;
    expect(store).toEqual({ type: "ok", response: { type: "store_sql" } });
    expect(exec.response.result).toMatchObject({
      cols: [{ name: "n", decltype: null }],
      rows: [[{ type: "integer", value: "42" }]],
      affected_row_count: 0,
    });
    expect(typeof exec.response.result.last_insert_rowid).toBe("string");
    expect(noRows.response.result.rows).toEqual([]);
    expect(closeSql.response.type).toBe("close_sql");
    expect(missing).toMatchObject({ type: "error", error: { code: "PROTOCOL_ERROR" } });
    expect(seq.response.type).toBe("sequence");
    expect(desc.response.result).toEqual({
      params: [{ name: ":p" }, { name: "?2" }],
      cols: [
        { name: "y", decltype: null },
        { name: "p", decltype: null },
      ],
      is_explain: false,
      is_readonly: true,
    });
    expect(close.response.type).toBe("close");
  });
});
