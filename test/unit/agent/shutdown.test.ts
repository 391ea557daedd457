// The shutdown manager on its own: step order, single flight, failures, the time budget, exit
// codes (128 + signal by default) and signal wiring, all without a process or real timers.
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type { Logger } from "../../../agent/log";
import { ShutdownManager, signalExitCode } from "../../../agent/shutdown";
import { FakeClock } from "./fake-clock";

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string, fields?: object) =>
    void lines.push(`${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ""}`);
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

function manager(options: Partial<ConstructorParameters<typeof ShutdownManager>[0]> = {}) {
  const log = recordingLog();
  const clock = new FakeClock();
  const shutdown = new ShutdownManager({ log, clock, timeoutMs: 10_000, ...options });
  return { shutdown, log, clock };
}

describe("ShutdownManager", () => {
  it("runs the steps one after another, in registration order", async () => {
    const { shutdown } = manager();
    const order: string[] = [];
    const step = (name: string, ms: number) =>
      shutdown.register(name, async () => {
        order.push(`${name} start`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        order.push(`${name} end`);
      });
    step("commands", 15);
    step("connection", 1);
    step("lock", 5);
    expect(shutdown.stepNames).toEqual(["commands", "connection", "lock"]);
    expect(await shutdown.shutdown({ code: 0 })).toBe(0);
    expect(order).toEqual([
      "commands start",
      "commands end",
      "connection start",
      "connection end",
      "lock start",
      "lock end",
    ]);
  });

  it("exits 128 + the signal's number by default: 143 for SIGTERM, 130 for SIGINT", async () => {
    expect(signalExitCode("SIGTERM")).toBe(143);
    expect(await manager().shutdown.shutdown({ signal: "SIGTERM" })).toBe(143);
    expect(await manager().shutdown.shutdown({ signal: "SIGINT" })).toBe(130);
  });

  it("lets the owner choose the code of a graceful stop on a signal", async () => {
    const { shutdown } = manager({ exitCodeForSignal: () => 0 });
    expect(await shutdown.shutdown({ signal: "SIGTERM" })).toBe(0);
  });

  it("passes an explicit exit code through (the agent's 4 and 5)", async () => {
    expect(await manager().shutdown.shutdown({ code: 4 })).toBe(4);
    expect(await manager().shutdown.shutdown({ code: 5 })).toBe(5);
  });

  it("is single-flight: steps run once and the first reason's code wins", async () => {
    const { shutdown } = manager();
    let runs = 0;
    shutdown.register("once", () => void runs++);
    const [first, second] = await Promise.all([
      shutdown.shutdown({ code: 4 }),
      shutdown.shutdown({ signal: "SIGTERM" }),
    ]);
    expect([first, second, runs]).toEqual([4, 4, 1]);
    expect(await shutdown.finished).toBe(4);
    expect(await shutdown.shutdown({ code: 5 })).toBe(4);
  });

  it("logs a failed step and still runs the ones after it", async () => {
    const { shutdown, log } = manager();
    const ran: string[] = [];
    shutdown.register("connection", () => {
      throw new Error("socket gone");
    });
    shutdown.register("lock", () => void ran.push("lock"));
    expect(await shutdown.shutdown({ code: 0 })).toBe(0);
    expect(ran).toEqual(["lock"]);
    expect(log.lines).toContain('error error during shutdown {"step":"connection","problem":"socket gone"}');
  });

  it("gives up after the time budget, naming the step that hung, with the same exit code", async () => {
    const { shutdown, log, clock } = manager();
    const ran: string[] = [];
    shutdown.register("commands", () => new Promise<void>(() => {}));
    shutdown.register("lock", () => void ran.push("lock"));
    const code = shutdown.shutdown({ code: 5 });
    await Promise.resolve();
    clock.advance(9_999);
    let settled = false;
    void code.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(settled).toBe(false);
    clock.advance(1);
    expect(await code).toBe(5);
    expect(ran).toEqual([]);
    expect(log.lines).toContain('error graceful shutdown timed out; exiting anyway {"step":"commands"}');
  });

  it("cancels its timer when the steps finish in time", async () => {
    const { shutdown, clock } = manager();
    shutdown.register("quick", () => {});
    await shutdown.shutdown({ code: 0 });
    expect(clock.pending).toBe(0);
  });

  it("refuses duplicate names and steps registered after shutdown began", async () => {
    const { shutdown } = manager();
    shutdown.register("lock", () => {});
    expect(() => shutdown.register("lock", () => {})).toThrow('shutdown step "lock" is already registered');
    void shutdown.shutdown({ code: 0 });
    expect(() => shutdown.register("late", () => {})).toThrow('shutdown has started; cannot register "late"');
  });

  describe("signals", () => {
    it("starts a graceful stop on SIGTERM; a repeated SIGTERM only logs", async () => {
      const { shutdown, log } = manager();
      const signals = new EventEmitter();
      const forced: number[] = [];
      let runs = 0;
      shutdown.register("once", () => void runs++);
      shutdown.handleSignals(signals, (code) => forced.push(code));
      signals.emit("SIGTERM");
      signals.emit("SIGTERM");
      expect(await shutdown.finished).toBe(143);
      expect(runs).toBe(1);
      expect(forced).toEqual([]);
      expect(log.lines.filter((line) => line.startsWith("info shutting down"))).toHaveLength(2);
    });

    it("forces exit 130 at once on a second Ctrl-C while a stop hangs", async () => {
      const { shutdown } = manager();
      const signals = new EventEmitter();
      const forced: number[] = [];
      shutdown.register("hangs", () => new Promise<void>(() => {}));
      shutdown.handleSignals(signals, (code) => forced.push(code));
      signals.emit("SIGINT");
      expect(forced).toEqual([]);
      signals.emit("SIGINT");
      expect(forced).toEqual([130]);
    });
  });
});
