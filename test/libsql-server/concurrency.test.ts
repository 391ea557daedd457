// The libSQL dev server under concurrent streams, idle-stream expiry, and
// namespaces that stay isolated and survive a restart.

import fs from "node:fs";
import path from "node:path";
import { LibsqlError } from "@libsql/client";
import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("concurrent streams", () => {
  it("interleaves two transactions on separate connections; the second writer waits for the first", async () => {
    server = await startTestServer();
    const db = server.client("interleave");
    await db.execute("CREATE TABLE t(who TEXT, n INT)");

    const a = await db.transaction("write");
    await a.execute("INSERT INTO t VALUES ('a', 1)");
    // a read transaction runs alongside and does not see a's uncommitted row
    const reader = await db.transaction("read");
    expect((await reader.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(0);

    // b's BEGIN IMMEDIATE (sent with its first statement) is busy until a
    // commits; the server retries it without blocking, so a's commit still
    // gets through.
    const b = await db.transaction("write");
    let bStarted = false;
    const bDone = (async () => {
      const seen = (await b.execute("SELECT count(*) AS n FROM t")).rows[0].n;
      bStarted = true;
      await b.execute("INSERT INTO t VALUES ('b', 2)");
      await b.commit();
      return seen;
    })();
    bDone.catch(() => {});
    await sleep(50);
    expect(bStarted).toBe(false);
    await a.execute("INSERT INTO t VALUES ('a', 3)");
    await a.commit();
    expect(await bDone).toBe(2);

    expect((await reader.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(0); // snapshot kept
    await reader.rollback();
    const rows = (await db.execute("SELECT who FROM t ORDER BY n")).rows.map((r) => r.who);
    expect(rows).toEqual(["a", "b", "a"]);
  });

  it("50 concurrent conditional UPDATEs on one row: exactly the available ones succeed", async () => {
    server = await startTestServer();
    const db = server.client("counter", { concurrency: 64 });
    await db.execute("CREATE TABLE stock(id INTEGER PRIMARY KEY, left INT NOT NULL)");
    await db.execute("INSERT INTO stock VALUES (1, 30)");

    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        db.execute("UPDATE stock SET left = left - 1 WHERE id = 1 AND left > 0"),
      ),
    );
    expect(results.filter((r) => r.rowsAffected === 1)).toHaveLength(30);
    expect(results.filter((r) => r.rowsAffected === 0)).toHaveLength(20);
    expect((await db.execute("SELECT left FROM stock")).rows[0].left).toBe(0);
  });

  it("concurrent autocommit writes wait for an open write transaction instead of failing", async () => {
    server = await startTestServer();
    const db = server.client("waiters", { concurrency: 64 });
    await db.execute("CREATE TABLE t(x)");
    const tx = await db.transaction("write");
    await tx.execute("INSERT INTO t VALUES (0)");
    const writes = Promise.all(
      Array.from({ length: 20 }, (_, i) => db.execute({ sql: "INSERT INTO t VALUES (?)", args: [i + 1] })),
    );
    await sleep(30);
    await tx.commit();
    await writes;
    expect((await db.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(21);
  });

  it("serializes 10 concurrent read-modify-write transactions without deadlock", async () => {
    server = await startTestServer();
    const db = server.client("rmw");
    await db.execute("CREATE TABLE c(n INT)");
    await db.execute("INSERT INTO c VALUES (0)");
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const tx = await db.transaction("write");
        const n = Number((await tx.execute("SELECT n FROM c")).rows[0].n);
        await sleep(5);
        await tx.execute({ sql: "UPDATE c SET n = ?", args: [n + 1] });
        await tx.commit();
      }),
    );
    expect((await db.execute("SELECT n FROM c")).rows[0].n).toBe(10);
  });

  it("gives up on a lock held too long with SQLITE_BUSY", async () => {
    server = await startTestServer({ busyTimeoutMs: 100 });
    const db = server.client("busy");
    await db.execute("CREATE TABLE t(x)");
    const tx = await db.transaction("write");
    await tx.execute("INSERT INTO t VALUES (1)");
    const err = await db.execute("INSERT INTO t VALUES (2)").catch((e) => e);
    expect(err).toBeInstanceOf(LibsqlError);
    expect(err.code).toBe("SQLITE_BUSY");
    await tx.commit();
  });
});

describe("stream expiry", () => {
  it("expires an idle stream, rolls back its transaction and reports STREAM_EXPIRED", async () => {
    server = await startTestServer({ streamIdleMs: 150 });
    const db = server.client("expiry");
    await db.execute("CREATE TABLE t(x)");
    const tx = await db.transaction("write");
    await tx.execute("INSERT INTO t VALUES (1)");
    await sleep(400);

    const err = await tx.execute("INSERT INTO t VALUES (2)").catch((e) => e);
    expect(err).toBeInstanceOf(LibsqlError);
    expect(err.code).toBe("STREAM_EXPIRED");
    expect(err.message).toMatch(/expired/);
    await tx.rollback(); // harmless on a dead stream

    expect((await db.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(0);
    // the write lock was released: others can write
    await db.execute("INSERT INTO t VALUES (3)");
  });

  it("keeps a stream alive while it is used", async () => {
    // The gaps are a quarter of the idle window, so a loaded machine that
    // stretches a 300 ms sleep does not expire the stream, while the whole
    // transaction still outlives the window by half.
    server = await startTestServer({ streamIdleMs: 1200 });
    const db = server.client("alive");
    await db.execute("CREATE TABLE t(x)");
    const tx = await db.transaction("write");
    const started = Date.now();
    for (let i = 0; i < 6; i++) {
      await tx.execute({ sql: "INSERT INTO t VALUES (?)", args: [i] });
      await sleep(300);
    }
    await tx.commit();
    expect(Date.now() - started).toBeGreaterThan(1200);
    expect((await db.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(6);
  });
});

describe("namespaces", () => {
  it("isolates databases, maps the root URL to 'main', and persists across a restart", async () => {
    server = await startTestServer();
    const a = server.client("alpha");
    const b = server.client("beta");
    const root = server.client();
    await a.execute("CREATE TABLE t(v TEXT)");
    await a.execute("INSERT INTO t VALUES ('from alpha')");
    await b.execute("CREATE TABLE t(v TEXT)");
    await b.execute("INSERT INTO t VALUES ('from beta')");
    await root.execute("CREATE TABLE m(v TEXT)");

    expect((await a.execute("SELECT v FROM t")).rows.map((r) => r.v)).toEqual(["from alpha"]);
    expect((await b.execute("SELECT v FROM t")).rows.map((r) => r.v)).toEqual(["from beta"]);
    const err = await root.execute("SELECT * FROM t").catch((e) => e);
    expect(err.code).toBe("SQLITE_ERROR");
    expect(
      fs
        .readdirSync(server.dataDir)
        .filter((f) => f.endsWith(".db"))
        .sort(),
    ).toEqual(["alpha.db", "beta.db", "main.db"]);

    await server.restart();
    expect((await server.client("alpha").execute("SELECT v FROM t")).rows.map((r) => r.v)).toEqual([
      "from alpha",
    ]);
    expect((await server.client("beta").execute("SELECT v FROM t")).rows.map((r) => r.v)).toEqual([
      "from beta",
    ]);
    expect((await server.client("main").execute("SELECT count(*) AS n FROM m")).rows[0].n).toBe(0);
    expect(fs.existsSync(path.join(server.dataDir, "alpha.db"))).toBe(true);
  });
});
