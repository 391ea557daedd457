// Conformance of the libSQL dev server as seen through @libsql/client
// (Node and web builds): values, arguments, batches, sequences, interactive
// transactions and error codes.

import { LibsqlError } from "@libsql/client";
import { createClient as createWebClient } from "@libsql/client/web";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { libsqlUrl } from "../../scripts/libsql-server/server.mjs";
import { startTestServer, type TestServer } from "./helpers";

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
});

async function errorOf(promise: Promise<unknown>): Promise<LibsqlError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LibsqlError);
    return error as LibsqlError;
  }
  throw new Error("expected the promise to reject");
}

describe("values", () => {
  it("round-trips integers (as bigint), floats, text, blobs and null", async () => {
    const db = server.client("values", { intMode: "bigint" });
    await db.execute("CREATE TABLE v(i INTEGER, f REAL, t TEXT, b BLOB, n)");
    const big = 9223372036854775807n;
    const small = -9223372036854775808n;
    const blob = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const insert = await db.execute({
      sql: "INSERT INTO v VALUES (?, ?, ?, ?, ?)",
      args: [big, 3.25, "héllo ✓", blob, null],
    });
    expect(insert.rowsAffected).toBe(1);
    expect(insert.lastInsertRowid).toBe(1n);
    await db.execute({ sql: "INSERT INTO v(i, f) VALUES (?, ?)", args: [small, -0.5] });

    const rs = await db.execute("SELECT i, f, t, b, n, typeof(f) AS tf FROM v ORDER BY rowid");
    expect(rs.columns).toEqual(["i", "f", "t", "b", "n", "tf"]);
    expect(rs.columnTypes).toEqual(["INTEGER", "REAL", "TEXT", "BLOB", "", ""]);
    const [row, row2] = rs.rows;
    expect(row.i).toBe(big);
    expect(row.f).toBe(3.25);
    expect(row.t).toBe("héllo ✓");
    expect(new Uint8Array(row.b as ArrayBuffer)).toEqual(blob);
    expect(row.n).toBeNull();
    expect(row.tf).toBe("real");
    expect(row2.i).toBe(small);
    expect(row2.f).toBe(-0.5);
  });

  it("keeps integers and floats apart (JS numbers travel as floats)", async () => {
    const db = server.client();
    const rs = await db.execute({ sql: "SELECT 42 AS i, 2.0 AS f, typeof(?) AS arg", args: [7] });
    expect(rs.rows[0].i).toBe(42);
    expect(rs.rows[0].f).toBe(2);
    expect(rs.rows[0].arg).toBe("real");
  });

  it("binds positional and named arguments with any prefix", async () => {
    const db = server.client();
    const rs = await db.execute({ sql: "SELECT ? AS a, ?3 AS c, ?2 AS b", args: ["x", "y", "z"] });
    expect(rs.rows[0]).toMatchObject({ a: "x", b: "y", c: "z" });
    const named = await db.execute({
      sql: "SELECT :a AS a, @b AS b, $c AS c, :a || @b AS ab",
      args: { a: "1", b: "2", c: null },
    });
    expect(named.rows[0]).toMatchObject({ a: "1", b: "2", c: null, ab: "12" });
    const prefixed = await db.execute({ sql: "SELECT :a AS a", args: { ":a": "p" } });
    expect(prefixed.rows[0].a).toBe("p");
  });

  it("rejects missing and extra arguments like sqld", async () => {
    const db = server.client();
    expect((await errorOf(db.execute({ sql: "SELECT ?, ?", args: [1] }))).code).toBe("ARGS_INVALID");
    expect((await errorOf(db.execute({ sql: "SELECT ?", args: [1, 2] }))).code).toBe("ARGS_INVALID");
    expect((await errorOf(db.execute({ sql: "SELECT :a", args: { b: 1 } }))).code).toBe("ARGS_INVALID");
  });
});

describe("statements", () => {
  it("reports affected rows for writes only and returns RETURNING rows", async () => {
    const db = server.client();
    await db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, n INT)");
    const ins = await db.execute("INSERT INTO t(n) VALUES (1), (2), (3) RETURNING id");
    expect(ins.rows.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(ins.rowsAffected).toBe(3);
    const upd = await db.execute("UPDATE t SET n = n + 1 WHERE n >= 2");
    expect(upd.rowsAffected).toBe(2);
    expect((await db.execute("SELECT * FROM t")).rowsAffected).toBe(0);
    expect((await db.execute("CREATE TABLE t2(x)")).rowsAffected).toBe(0);
  });

  it("refuses more than one statement in execute", async () => {
    const db = server.client();
    expect((await errorOf(db.execute("SELECT 1; SELECT 2"))).code).toBe("SQL_MANY_STATEMENTS");
    expect((await errorOf(db.execute("  -- nothing"))).code).toBe("SQL_NO_STATEMENT");
    expect((await db.execute("SELECT 1; -- trailing comment")).rows).toHaveLength(1);
  });

  it("executeMultiple runs a script, triggers included", async () => {
    const db = server.client("script");
    await db.executeMultiple(`
      CREATE TABLE a(x INTEGER, note TEXT DEFAULT 'it''s; fine');
      CREATE TABLE log(msg TEXT);
      CREATE TRIGGER a_ins AFTER INSERT ON a BEGIN
        INSERT INTO log VALUES ('inserted ' || new.x);
        UPDATE log SET msg = msg || ';' WHERE msg LIKE '%;%';
      END;
      /* a comment; with a semicolon */
      INSERT INTO a(x) VALUES (1); INSERT INTO a(x) VALUES (2)
    `);
    expect((await db.execute("SELECT msg FROM log ORDER BY rowid")).rows.map((r) => r.msg)).toEqual([
      "inserted 1",
      "inserted 2",
    ]);
    expect((await db.execute("SELECT note FROM a LIMIT 1")).rows[0].note).toBe("it's; fine");
    const err = await errorOf(
      db.executeMultiple("INSERT INTO a(x) VALUES (3); INSERT INTO nope VALUES (1);"),
    );
    expect(err.code).toBe("SQLITE_ERROR");
  });
});

describe("errors", () => {
  it("maps constraint failures to extended SQLite codes", async () => {
    const db = server.client("constraints");
    await db.executeMultiple(`
      CREATE TABLE p(id INTEGER PRIMARY KEY, k TEXT UNIQUE, n INT NOT NULL DEFAULT 0 CHECK (n >= 0));
      CREATE TABLE c(id INTEGER PRIMARY KEY, pid INT REFERENCES p(id));
      CREATE TABLE w(a TEXT PRIMARY KEY) WITHOUT ROWID;
      INSERT INTO p(id, k) VALUES (1, 'a');
      INSERT INTO w VALUES ('x');
    `);
    const cases: [string, string][] = [
      ["INSERT INTO p(k) VALUES ('a')", "SQLITE_CONSTRAINT_UNIQUE"],
      ["INSERT INTO p(id, k) VALUES (1, 'b')", "SQLITE_CONSTRAINT_PRIMARYKEY"],
      ["INSERT INTO w VALUES ('x')", "SQLITE_CONSTRAINT_PRIMARYKEY"],
      ["INSERT INTO p(k, n) VALUES ('c', NULL)", "SQLITE_CONSTRAINT_NOTNULL"],
      ["INSERT INTO p(k, n) VALUES ('d', -1)", "SQLITE_CONSTRAINT_CHECK"],
      ["INSERT INTO c(pid) VALUES (99)", "SQLITE_CONSTRAINT_FOREIGNKEY"],
      ["SELECT * FROM missing", "SQLITE_ERROR"],
      ["SELEC 1", "SQLITE_ERROR"],
    ];
    for (const [sql, code] of cases) {
      const err = await errorOf(db.execute(sql));
      expect(err.code, sql).toBe(code);
    }
    expect((await errorOf(db.execute("INSERT INTO p(k) VALUES ('a')"))).message).toContain(
      "UNIQUE constraint failed: p.k",
    );
  });
});

describe("batch", () => {
  it("commits all statements together", async () => {
    const db = server.client("batch");
    const results = await db.batch(
      [
        "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT UNIQUE)",
        { sql: "INSERT INTO t(k) VALUES (?)", args: ["a"] },
        { sql: "INSERT INTO t(k) VALUES (?)", args: ["b"] },
        "SELECT count(*) AS n FROM t",
      ],
      "write",
    );
    expect(results).toHaveLength(4);
    expect(results[1].lastInsertRowid).toBe(1n);
    expect(results[3].rows[0].n).toBe(2);
  });

  it("rolls back every statement when one fails", async () => {
    const db = server.client("batch_rollback");
    await db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT UNIQUE)");
    await db.execute("INSERT INTO t(k) VALUES ('taken')");
    for (const mode of ["write", "deferred"] as const) {
      const err = await errorOf(
        db.batch(
          [
            "INSERT INTO t(k) VALUES ('first')",
            "UPDATE t SET k = 'changed' WHERE k = 'taken'",
            "INSERT INTO t(k) VALUES ('changed')",
            "INSERT INTO t(k) VALUES ('never')",
          ],
          mode,
        ),
      );
      expect(err.code).toBe("SQLITE_CONSTRAINT_UNIQUE");
    }
    const rs = await db.execute("SELECT k FROM t ORDER BY id");
    expect(rs.rows.map((r) => r.k)).toEqual(["taken"]);
    // the connection is usable afterwards (no transaction left open)
    await db.batch(["INSERT INTO t(k) VALUES ('after')"], "write");
    expect((await db.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(2);
  });
});

describe("interactive transactions", () => {
  it("commits", async () => {
    const db = server.client("tx_commit");
    await db.execute("CREATE TABLE t(x)");
    const tx = await db.transaction("write");
    await tx.execute({ sql: "INSERT INTO t VALUES (?)", args: [1] });
    await tx.batch(["INSERT INTO t VALUES (2)", "INSERT INTO t VALUES (3)"]);
    expect((await tx.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(3);
    // not visible outside the transaction yet
    expect((await db.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(0);
    await tx.commit();
    expect((await db.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(3);
  });

  it("rolls back, also after a failed statement", async () => {
    const db = server.client("tx_rollback");
    await db.execute("CREATE TABLE t(x UNIQUE)");
    const tx = await db.transaction("write");
    await tx.execute("INSERT INTO t VALUES (1)");
    const err = await errorOf(tx.execute("INSERT INTO t VALUES (1)"));
    expect(err.code).toBe("SQLITE_CONSTRAINT_UNIQUE");
    await tx.execute("INSERT INTO t VALUES (2)");
    await tx.rollback();
    expect((await db.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(0);
  });

  it("runs executeMultiple inside a transaction", async () => {
    const db = server.client("tx_multi");
    await db.execute("CREATE TABLE t(x)");
    const tx = await db.transaction("deferred");
    await tx.executeMultiple("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);");
    await tx.rollback();
    expect((await db.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(0);
  });
});

describe("web client", () => {
  it("works with @libsql/client/web: execute, batch, transaction", async () => {
    const db = createWebClient({ url: libsqlUrl(server.url, "web"), intMode: "bigint" });
    try {
      await db.batch(
        ["CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)", "INSERT INTO t(v) VALUES ('a')"],
        "write",
      );
      const tx = await db.transaction("write");
      await tx.execute({ sql: "INSERT INTO t(v) VALUES (:v)", args: { v: "b" } });
      await tx.commit();
      const rs = await db.execute("SELECT id, v FROM t ORDER BY id");
      expect(rs.rows.map((r) => [r.id, r.v])).toEqual([
        [1n, "a"],
        [2n, "b"],
      ]);
      const err = await errorOf(db.execute("INSERT INTO t(id, v) VALUES (1, 'dup')"));
      expect(err.code).toBe("SQLITE_CONSTRAINT_PRIMARYKEY");
    } finally {
      db.close();
    }
    // the web client really used the namespace, not the default database
    const main = server.client();
    expect((await main.execute("SELECT count(*) AS n FROM sqlite_master")).rows[0].n).toBe(0);
  });
});
