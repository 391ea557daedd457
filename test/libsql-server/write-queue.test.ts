// Writers that find a namespace's write lock taken wait in line and get it in arrival order, the
// moment the holder's transaction ends; reads never wait for the lock (issue 23).

import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("writers waiting for the lock", () => {
  it("answers a read while a write transaction is open and writers are waiting", async () => {
    server = await startTestServer();
    const db = server.client("reads", { concurrency: 64 });
    await db.execute("CREATE TABLE t(x)");
    await db.execute("INSERT INTO t VALUES (0)");
    const tx = await db.transaction("write");
    await tx.execute("INSERT INTO t VALUES (1)");
    const writes = Promise.all(
      Array.from({ length: 5 }, (_, i) => db.execute({ sql: "INSERT INTO t VALUES (?)", args: [i + 2] })),
    );
    await sleep(20);
    const t = performance.now();
    const read = await db.execute("SELECT count(*) AS n FROM t");
    expect(read.rows[0].n).toBe(1); // the committed row only
    expect(performance.now() - t).toBeLessThan(500);
    await tx.commit();
    await writes;
    expect((await db.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(7);
  });

  it("hands the lock to waiting writers in the order they arrived", async () => {
    server = await startTestServer();
    const db = server.client("order", { concurrency: 64 });
    await db.execute("CREATE TABLE t(x)");
    const holder = await db.transaction("write");
    await holder.execute("INSERT INTO t VALUES (0)");
    const writers: Promise<unknown>[] = [];
    for (let i = 1; i <= 12; i++) {
      writers.push(
        (async () => {
          // Each an interactive transaction of two statements, as enrolment is.
          const tx = await db.transaction("write");
          await tx.execute({ sql: "INSERT INTO t VALUES (?)", args: [i] });
          await tx.execute("SELECT count(*) FROM t");
          await tx.commit();
        })(),
      );
      await sleep(15); // a distinct arrival order, each already waiting for the lock
    }
    await sleep(100); // longer than the head's poll: order must not depend on timers
    await holder.commit();
    await Promise.all(writers);
    const order = (await db.execute("SELECT x FROM t ORDER BY rowid")).rows.map((r) => Number(r.x));
    expect(order).toEqual(Array.from({ length: 13 }, (_, i) => i));
  });
});
