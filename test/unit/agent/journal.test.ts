import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { INTERRUPTED_OUTPUT, Journal } from "../../../agent/journal";
import { tempDir } from "./helpers";

const result = (exit_code = 0) => ({
  exit_code,
  output: "ok\n",
  truncated: false,
  started_at: 1000,
  finished_at: 2000,
});

describe("execution journal", () => {
  it("reports an execution started by a previous agent as interrupted (125), never as runnable", async () => {
    const dir = await tempDir();
    const first = await Journal.open(dir);
    await first.recordStarted("exec-1", "touch /tmp/x", 60_000, 1000);
    expect(first.state("exec-1")).toBe("started");

    // A new agent process opens the same journal.
    const second = await Journal.open(dir);
    expect(second.state("exec-1")).toBe("started");
    expect(await second.recoverInterrupted(5000)).toEqual(["exec-1"]);
    expect(second.state("exec-1")).toBe("finished");
    const [entry] = await second.unacknowledged();
    expect(entry.execution_id).toBe("exec-1");
    expect(entry.result).toEqual({
      exit_code: 125,
      output: INTERRUPTED_OUTPUT,
      truncated: false,
      started_at: 1000,
      finished_at: 5000,
    });
  });

  it("keeps results until acknowledged, then remembers the id after the file is gone", async () => {
    const dir = await tempDir();
    const journal = await Journal.open(dir, { ackedRetentionMs: 1000 });
    await journal.recordStarted("a", "true", null);
    await journal.recordResult("a", "true", null, result(0));
    await journal.recordStarted("b", "false", null);
    await journal.recordResult("b", "false", null, { ...result(1), finished_at: 1500 });
    expect((await journal.unacknowledged()).map((e) => e.execution_id)).toEqual(["b", "a"]);

    expect(await journal.markAcked("a", 10_000)).toBe(true);
    expect((await journal.unacknowledged()).map((e) => e.execution_id)).toEqual(["b"]);
    await journal.sweep(10_500); // within retention: the file stays, so a duplicate exec gets the result again
    expect(journal.state("a")).toBe("finished");
    await journal.sweep(20_000);
    expect(journal.state("a")).toBe("done");
    expect(await readdir(join(dir, "executions"))).toEqual(["b.json"]);

    const reopened = await Journal.open(dir);
    expect(reopened.state("a")).toBe("done");
    expect(reopened.state("b")).toBe("finished");
    expect(reopened.state("never-seen")).toBe("unknown");
  });

  it("bounds the done index by size, oldest first", async () => {
    const dir = await tempDir();
    const journal = await Journal.open(dir, { ackedRetentionMs: 0, doneMaxEntries: 2 });
    for (const [i, id] of ["x", "y", "z"].entries()) {
      await journal.recordResult(id, "true", null, result());
      await journal.markAcked(id, 1000 + i);
    }
    await journal.sweep(5000);
    expect(["x", "y", "z"].map((id) => journal.state(id))).toEqual(["unknown", "done", "done"]);
  });

  it("stores ids that are not plain file names safely, with private modes", async () => {
    const dir = await tempDir();
    const journal = await Journal.open(dir);
    await journal.recordStarted("../../etc/passwd", "true", null);
    const files = await readdir(join(dir, "executions"));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^%[0-9a-f]{40}\.json$/);
    expect(JSON.parse(await readFile(join(dir, "executions", files[0]), "utf8")).execution_id).toBe(
      "../../etc/passwd",
    );
    expect((await stat(join(dir, "executions"))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, "executions", files[0]))).mode & 0o777).toBe(0o600);
    expect((await Journal.open(dir)).state("../../etc/passwd")).toBe("started");
  });
});
