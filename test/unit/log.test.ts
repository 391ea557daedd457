import { createClient } from "@libsql/client";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/libsql";
import { describe, expect, it } from "vitest";
import { describeError } from "../../src/db/errors";
import { redactedError, redactedStack } from "../../src/db/redact";
import { createLogger, type LogLevel } from "../../src/log";

// What a statement may bind: a command text (over several lines) and a token hash.
const SECRET_COMMAND = "curl -H 'Authorization: Bearer s3cr3t' https://example.test\nrm -rf /tmp/x";
const SECRET_HASH = "a3f1c0ffee0ddba11deadbeefcafef00d";

/** A real drizzle "Failed query" error from libSQL: a UNIQUE violation on a row holding the secrets. */
async function failedQuery(): Promise<unknown> {
  const db = drizzle(createClient({ url: ":memory:" }));
  await db.run(sql`CREATE TABLE t (command TEXT NOT NULL, hash TEXT NOT NULL UNIQUE)`);
  const insert = () => db.run(sql`INSERT INTO t (command, hash) VALUES (${SECRET_COMMAND}, ${SECRET_HASH})`);
  await insert();
  return insert().then(
    () => expect.unreachable("the second insert must fail"),
    (err: unknown) => err,
  );
}

function capture(level?: LogLevel) {
  const lines: { level: LogLevel; line: string }[] = [];
  const log = createLogger({ level, write: (lvl, line) => lines.push({ level: lvl, line }) });
  return { log, lines };
}

describe("database errors in logs", () => {
  it("keep the statement's SQL and the driver's code, never its parameters", async () => {
    const err = await failedQuery();
    // The raw error does carry them: this is what the redaction is for.
    expect(String(err)).toContain(SECRET_HASH);
    const described = describeError(err);
    expect(described).toContain("Failed query: INSERT INTO t (command, hash) VALUES (?, ?)");
    expect(described).toMatch(/SQLITE_CONSTRAINT/);
    expect(described).not.toContain(SECRET_HASH);
    expect(described).not.toContain("s3cr3t");
    expect(described).not.toContain("rm -rf");
    expect(described).not.toContain("params:");
  });

  it("redact the stack's first line and keep its frames", async () => {
    const err = await failedQuery();
    const stack = redactedStack(err);
    expect(stack).toMatch(/^Error: Failed query: INSERT INTO t/);
    expect(stack).toMatch(/\n\s+at /);
    expect(stack).not.toContain(SECRET_HASH);
    expect(stack).not.toContain("rm -rf");
  });

  it("cut a wrapper's message that copied drizzle's params line", () => {
    const wrapped = new Error(`delivery failed: Failed query: select 1\nparams: ${SECRET_COMMAND}`);
    expect(redactedError(wrapped)).toBe("Error: delivery failed: Failed query: select 1");
    expect(redactedStack(wrapped)).not.toContain("rm -rf");
  });

  it("never reach a log line through the logger", async () => {
    const { log, lines } = capture();
    log.error("write failed", { error: await failedQuery() });
    expect(lines).toHaveLength(1);
    expect(lines[0].line).not.toContain(SECRET_HASH);
    expect(JSON.parse(lines[0].line).error).toContain("Failed query: INSERT INTO t");
  });
});

describe("createLogger", () => {
  it("writes one JSON object per line with its level, message and fields", () => {
    const { log, lines } = capture();
    log.warn("agent reported a frame error", { code: "bad", attempt: 2 });
    expect(lines).toEqual([
      {
        level: "warn",
        line: JSON.stringify({ level: "warn", msg: "agent reported a frame error", code: "bad", attempt: 2 }),
      },
    ]);
  });

  it("binds a child's fields to every line, the line's own fields winning", () => {
    const { log, lines } = capture();
    const child = log.child({ request_id: "r1", job: "a" }).child({ node_id: "n1" });
    child.info("hello", { job: "b" });
    expect(JSON.parse(lines[0].line)).toEqual({
      level: "info",
      msg: "hello",
      request_id: "r1",
      job: "b",
      node_id: "n1",
    });
  });

  it("drops lines below its level (info by default)", () => {
    const quiet = capture();
    quiet.log.debug("hidden");
    quiet.log.info("shown");
    expect(quiet.lines.map((l) => l.level)).toEqual(["info"]);
    const verbose = capture("debug");
    verbose.log.debug("shown");
    expect(verbose.lines).toHaveLength(1);
  });

  it("keeps the line when a field cannot be serialised", () => {
    const { log, lines } = capture();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    log.error("odd", { cyclic, big: 1n });
    const line = JSON.parse(lines[0].line);
    expect(line).toMatchObject({ level: "error", msg: "odd" });
    expect(line.log_error).toMatch(/not serialisable/);
  });
});
