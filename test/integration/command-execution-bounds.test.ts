import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { enrolNode } from "./agent-session";
import { api, db, LIVE, run, setUpExecutions, startExecutionsFile } from "./executions-fixture";

startExecutionsFile();

// M3: no response grows with the data. A list page of 100 executions with 1 MiB of output each
// stays small (outputs cut in SQL, marked `output_truncated`), the execution read by id has it
// whole, and `command_text` is bounded at 64 KiB.

const MIB = 1024 * 1024;
const UUID_SQL = `lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2)
  || '-a' || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))`;
let commandId = "";
let firstId = "";

beforeAll(async () => {
  await setUpExecutions();
  const { nodeId } = await enrolNode(api, LIVE);
  const { command, executions } = await run([nodeId]);
  commandId = command.id;
  firstId = executions[0].id;
  // 99 more rows of the same command, and 1 MiB of output in each of the 100, built in SQL.
  const cols = (await db.all<{ name: string }>(sql`PRAGMA table_info(command_executions)`)).map(
    (c) => c.name,
  );
  const copied = cols.map((c) => (c === "id" ? UUID_SQL : c)).join(", ");
  await db.run(
    sql.raw(`INSERT INTO command_executions (${cols.join(", ")})
      SELECT ${copied} FROM command_executions, (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 99) SELECT i FROM n)
      WHERE id = '${firstId}'`),
  );
  await db.run(
    sql`UPDATE command_executions SET output = replace(hex(zeroblob(${MIB / 2})), '0', 'x') WHERE command_id = ${commandId}`,
  );
});

describe("bounded responses (M3)", () => {
  it("a page of 100 executions with 1 MiB of output each stays small, each output cut and marked", async () => {
    const res = await api.fetch(`/api/v1/command_executions?command_id=${commandId}&page_size=100`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.length).toBeLessThan(4 * MIB);
    const body = JSON.parse(text);
    expect(body.data).toHaveLength(100);
    for (const row of body.data) {
      expect(row.output).toHaveLength(16 * 1024);
      expect(row.output_truncated).toBe(true);
    }
  });

  it("serves the whole output by id", async () => {
    const res = await api.get(`/api/v1/command_executions/${firstId}`);
    expect(res.status).toBe(200);
    expect(res.body.data.output).toHaveLength(MIB);
  });

  it("refuses a command_text over 64 KiB with 422, and takes one of exactly 64 KiB", async () => {
    const { nodeId } = await enrolNode(api, LIVE);
    const body = (text: string) => ({ command_text: text, targeting: { type: "nodes", node_ids: [nodeId] } });
    const over = await api.post("/api/v1/commands", body(`${"é".repeat(32 * 1024)}x`));
    expect(over.status).toBe(422);
    expect(over.body.error.details.command_text).toEqual(["must be at most 65536 bytes"]);
    expect((await api.post("/api/v1/commands", body("x".repeat(64 * 1024)))).status).toBe(201);
  });

  // Last: it rewrites the outputs the tests above read.
  it("keeps a page within its 4 MiB output budget when JSON escaping inflates outputs sixfold", async () => {
    // 16,384 control characters per row: under the per-row cap, but six bytes each once JSON-escaped.
    await db.run(
      sql`UPDATE command_executions SET output = replace(hex(zeroblob(8192)), '0', char(1)) WHERE command_id = ${commandId}`,
    );
    const res = await api.fetch(`/api/v1/command_executions?command_id=${commandId}&page_size=100`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.length).toBeLessThan(4.5 * MIB);
    const rows = JSON.parse(text).data as { output: string; output_truncated: boolean }[];
    expect(rows).toHaveLength(100);
    const full = rows.filter((r) => r.output.length === 16 * 1024);
    const emptied = rows.slice(full.length);
    expect(full.length).toBe(Math.floor((4 * MIB) / (16 * 1024 * 6 + 2)));
    for (const row of full) expect(row.output_truncated).toBe(false);
    for (const row of emptied) expect(row).toMatchObject({ output: "", output_truncated: true });
    const byId = await api.get(`/api/v1/command_executions/${firstId}`);
    expect(byId.body.data.output).toHaveLength(16 * 1024);
  });
});
