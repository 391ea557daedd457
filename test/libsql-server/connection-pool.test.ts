// Streams reuse SQLite connections from a per-namespace pool; nothing one
// stream did to its connection (an open transaction, a PRAGMA, a TEMP table)
// reaches the next stream that gets it.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DatabaseRegistry } from "../../scripts/libsql-server/databases.mjs";
import { startTestServer, type TestServer } from "./helpers";

let server: TestServer | undefined;
let registry: DatabaseRegistry | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  registry?.closeAll();
  registry = undefined;
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

function newRegistry(): DatabaseRegistry {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "libsql-pool-test-"));
  registry = new DatabaseRegistry(dataDir);
  return registry;
}

describe("connection pool", () => {
  it("hands a finished stream's connection to the next stream of the same namespace only", () => {
    const reg = newRegistry();
    const first = reg.connect("alpha");
    first.exec("CREATE TABLE t(v TEXT)");
    reg.disconnect(first);
    expect(reg.connect("alpha")).toBe(first);
    expect(reg.connect("beta")).not.toBe(first);
  });

  it("rolls back an open transaction before reusing the connection", () => {
    const reg = newRegistry();
    const conn = reg.connect("main");
    conn.exec("CREATE TABLE t(v TEXT)");
    conn.exec("BEGIN");
    conn.exec("INSERT INTO t VALUES ('uncommitted')");
    reg.disconnect(conn);
    const next = reg.connect("main");
    expect(next).toBe(conn);
    expect(next.inTransaction).toBe(false);
    expect(next.prepare("SELECT count(*) FROM t").raw(true).get()).toEqual([0n]);
  });

  it("closes instead of pooling a connection after a PRAGMA, an EXPLAIN or a TEMP object", () => {
    const reg = newRegistry();
    for (const sql of [
      "PRAGMA foreign_keys = OFF",
      "EXPLAIN QUERY PLAN SELECT 1",
      "CREATE TEMP TABLE scratch(v TEXT)",
      "CREATE TEMPORARY VIEW v1 AS SELECT 1",
    ]) {
      const conn = reg.connect("main");
      conn.exec(sql);
      expect(conn.reusable).toBe(false);
      reg.disconnect(conn);
      expect(reg.connect("main")).not.toBe(conn);
    }
  });

  it("refuses ATTACH before it runs, so the connection stays clean", () => {
    const reg = newRegistry();
    const conn = reg.connect("main");
    const other = path.join(dataDir!, "other.db");
    expect(() => conn.exec(`ATTACH DATABASE '${other}' AS other`)).toThrow(/not authorized/);
    expect(conn.reusable).toBe(true);
    expect(() => conn.prepare(`ATTACH DATABASE '${other}' AS other`)).toThrow(/not authorized/);
    expect(fs.existsSync(other)).toBe(false);
  });

  it("closes instead of pooling a connection on which a statement failed", () => {
    const reg = newRegistry();
    const conn = reg.connect("main");
    conn.noteFailure();
    reg.disconnect(conn);
    expect(reg.connect("main")).not.toBe(conn);
  });

  it("keeps at most a few idle connections however many streams ran at once", () => {
    const reg = newRegistry();
    const many = Array.from({ length: 40 }, () => reg.connect("main"));
    expect(reg.connectionCount).toBe(40);
    for (const conn of many) reg.disconnect(conn);
    expect(reg.connectionCount).toBeLessThanOrEqual(8);
  });
});

describe("pooled connections through the server", () => {
  it("a stream closed with an open transaction leaves no rows and no transaction behind", async () => {
    server = await startTestServer();
    await server.client().execute("CREATE TABLE t(v TEXT)");
    const tx = await server.client().transaction("write");
    await tx.execute("INSERT INTO t VALUES ('lost')");
    tx.close();
    const client = server.client();
    for (let i = 0; i < 5; i++) {
      expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(0);
      const again = await client.transaction("write");
      await again.execute("SELECT 1");
      await again.rollback();
    }
  });

  it("foreign keys stay on and TEMP tables stay private whatever an earlier stream did", async () => {
    server = await startTestServer();
    const client = server.client();
    await client.execute("CREATE TABLE parent(id INTEGER PRIMARY KEY)");
    await client.execute("CREATE TABLE child(parent_id INTEGER REFERENCES parent(id))");
    await client.execute("PRAGMA foreign_keys = OFF");
    await client.execute("CREATE TEMP TABLE scratch(v TEXT)");
    for (let i = 0; i < 5; i++) {
      const fk = await client.execute("INSERT INTO child VALUES (42)").catch((e) => e);
      expect(fk.code).toMatch(/^SQLITE_CONSTRAINT/);
      const temp = await client.execute("SELECT * FROM scratch").catch((e) => e);
      expect(temp.code).toBe("SQLITE_ERROR");
    }
  });

  it("a connection whose write failed with SQLITE_BUSY_SNAPSHOT does not reach the next stream", async () => {
    // The engine keeps such a statement's read snapshot past ROLLBACK: pooled, the connection made
    // every later write fail the same way (enrolments and last_seen_at writes failed for minutes).
    server = await startTestServer();
    const client = server.client();
    await client.execute("CREATE TABLE t(v INTEGER)");
    await client.execute("INSERT INTO t VALUES (0)");
    const tx = await server.client().transaction("deferred");
    await tx.execute("SELECT count(*) FROM t");
    await client.execute("INSERT INTO t VALUES (1)");
    const stale = await tx.execute("UPDATE t SET v = v + 1").catch((e) => e);
    expect(stale.code).toBe("SQLITE_BUSY_SNAPSHOT");
    await tx.rollback().catch(() => {});
    tx.close();
    for (let i = 0; i < 5; i++) {
      await client.execute({ sql: "INSERT INTO t VALUES (?)", args: [i + 2] });
      const again = await client.transaction("write");
      await again.execute("UPDATE t SET v = v + 1 WHERE v = 0");
      await again.commit();
    }
    expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(7);
  });

  it("many sequential requests do not grow the server's open files", async () => {
    server = await startTestServer();
    const client = server.client();
    await client.execute("CREATE TABLE t(v INTEGER)");
    // Only this server's database files: other test files may share the process.
    const openFiles = () =>
      fs.readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(server!.dataDir);
        } catch {
          return false;
        }
      }).length;
    for (let i = 0; i < 20; i++) await client.execute({ sql: "INSERT INTO t VALUES (?)", args: [i] });
    const before = openFiles();
    for (let i = 0; i < 300; i++) await client.execute({ sql: "INSERT INTO t VALUES (?)", args: [i] });
    expect(before).toBeGreaterThan(0);
    expect(openFiles() - before).toBeLessThanOrEqual(4);
    expect((await client.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(320);
  });
});
