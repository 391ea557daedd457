import { describe, expect, it } from "vitest";
import { startExecution } from "../../../agent/executor";
import { processGone, waitFor } from "./helpers";

const run = (command: string, extra: Partial<Parameters<typeof startExecution>[0]> = {}) =>
  startExecution({ command, timeoutMs: 10_000, outputLimitBytes: 1024 * 1024, ...extra });

describe("executor", () => {
  it("captures stdout and stderr interleaved in the order they were written", async () => {
    const outcome = await run("echo one; echo two >&2; echo three; printf four >&2").done;
    expect(outcome.exit_code).toBe(0);
    expect(outcome.output).toBe("one\ntwo\nthree\nfour");
    expect(outcome.truncated).toBe(false);
    expect(outcome.finished_at).toBeGreaterThanOrEqual(outcome.started_at);
  });

  it("reports the shell's exit code, and 128+signo for a signal", async () => {
    expect((await run("exit 7").done).exit_code).toBe(7);
    expect((await run("kill -KILL $$").done).exit_code).toBe(137);
    expect((await run("kill -TERM $$").done).exit_code).toBe(143);
  });

  it("catches a syntax error on the first line too", async () => {
    const outcome = await run("if then").done;
    expect(outcome.exit_code).toBe(2);
    expect(outcome.output).toMatch(/Syntax error|syntax error/);
  });

  it("closes stdin and keeps the enrollment key and the wrapper's malloc tuning from commands", async () => {
    const agentOnly = [
      "ENROLLMENT_KEY",
      "MALLOC_ARENA_MAX",
      "MALLOC_TRIM_THRESHOLD_",
      "MALLOC_MMAP_THRESHOLD_",
    ];
    for (const name of agentOnly) process.env[name] = "must-not-leak";
    try {
      const shown = agentOnly.map((name) => `${name}=\${${name}:-unset}`).join(" ");
      const outcome = await run(`cat; echo "${shown} id=$OUTPOST_EXECUTION_ID"`, {
        env: { OUTPOST_EXECUTION_ID: "exec-1" },
      }).done;
      expect(outcome.output).toBe(`${agentOnly.map((name) => `${name}=unset`).join(" ")} id=exec-1\n`);
    } finally {
      for (const name of agentOnly) delete process.env[name];
    }
  });

  it("times out: SIGTERM to the group, exit 124 and a note", async () => {
    const started = Date.now();
    const outcome = await run("echo before; sleep 30", { timeoutMs: 300 }).done;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(outcome.exit_code).toBe(124);
    expect(outcome.output).toMatch(
      /^before\n\[timed out after 300 ms: sent SIGTERM to the command's process group\]\n$/,
    );
  });

  it("SIGKILLs a group that ignores SIGTERM after the grace period", async () => {
    const outcome = await run("trap '' TERM; sleep 30 & trap '' TERM; wait", {
      timeoutMs: 200,
      killGraceMs: 300,
    }).done;
    expect(outcome.exit_code).toBe(124);
    expect(outcome.output).toMatch(/then SIGKILL after 300 ms/);
  });

  it("cancel kills the whole process group (a background sleep too) and reports 143", async () => {
    let output = "";
    const execution = run("sleep 30 & echo $!; wait", { onOutput: (text) => (output += text) });
    const sleepPid = Number(await waitFor(() => /^(\d+)\n/.exec(output)?.[1], 5000, "the sleep pid"));
    expect(processGone(sleepPid)).toBe(false);
    execution.stop("cancel");
    const outcome = await execution.done;
    expect(outcome.exit_code).toBe(143);
    expect(outcome.output).toContain("[cancelled: sent SIGTERM to the command's process group]");
    await waitFor(() => processGone(sleepPid), 3000, "the background sleep to die");
  });

  it("caps stored output with a visible marker, keeping the head and the tail", async () => {
    // 200 000 bytes: "0123456789" × 20 000, then "END".
    const outcome = await run(
      "i=0; while [ $i -lt 2000 ]; do printf '%0100d' 0; i=$((i+1)); done; printf END",
      {
        outputLimitBytes: 64 * 1024,
      },
    ).done;
    expect(outcome.exit_code).toBe(0);
    expect(outcome.truncated).toBe(true);
    const omitted = 200_003 - 64 * 1024;
    expect(outcome.output).toContain(`\n[output truncated: ${omitted} bytes omitted]\n`);
    expect(outcome.output.endsWith("END")).toBe(true);
    expect(outcome.output.length).toBeLessThan(64 * 1024 + 100);
  });

  it("streams live output while the command runs", async () => {
    const chunks: string[] = [];
    const outcome = await run("echo a; sleep 0.2; echo b", { onOutput: (t) => chunks.push(t) }).done;
    expect(chunks.join("")).toBe("a\nb\n");
    expect(outcome.output).toBe("a\nb\n");
  });

  it("reports a shell that cannot start as 127", async () => {
    const outcome = await run("true", { shell: "/nonexistent/sh" }).done;
    expect(outcome.exit_code).toBe(127);
    expect(outcome.output).toContain("could not start /nonexistent/sh");
  });
});
