import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containerScript, powerScript, serviceScript, shellQuote } from "../../src/node-actions/scripts";

// The generated scripts run in a real `sh` with stand-ins for systemd-run, systemctl, wall and
// docker (the OUTPOST_* variables the scripts honour), each recording its arguments one per line.

const run = promisify(execFile);
let dir: string;
let env: Record<string, string>;

async function stub(name: string) {
  const path = join(dir, name);
  await writeFile(
    path,
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done >> ${join(dir, `${name}.log`)}\n`,
  );
  await chmod(path, 0o755);
  return path;
}

const calls = async (name: string) =>
  (await readFile(join(dir, `${name}.log`), "utf8").catch(() => "")).split("\n").filter(Boolean);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "outpost-node-actions-"));
  env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    OUTPOST_SYSTEMD_RUN: await stub("systemd-run"),
    OUTPOST_SYSTEMCTL: await stub("systemctl"),
    OUTPOST_WALL: await stub("wall"),
    OUTPOST_DOCKER: await stub("docker"),
  };
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe("node action scripts", () => {
  it("schedules a reboot through a systemd timer with the delay (at least 5 s), --force once, and the message to wall", async () => {
    const message = "going down; it's 'planned' $(rm -rf /)";
    const script = powerScript({ id: "abc123", action: "reboot", delaySeconds: 2, force: true, message });
    const { stdout } = await run("sh", ["-c", script], { env });
    expect(stdout).toBe("reboot scheduled in 5s as outpost-power-abc123.timer\n");
    expect(await calls("systemd-run")).toEqual([
      "--on-active=5s",
      "--unit=outpost-power-abc123",
      env.OUTPOST_SYSTEMCTL,
      "reboot",
      "--force",
    ]);
    expect(await calls("wall")).toEqual([message]);
  });

  it("falls back to shutdown with whole minutes when systemd-run is missing", async () => {
    const shutdown = await stub("shutdown");
    const script = powerScript({ id: "x", action: "shutdown", delaySeconds: 61, force: false });
    const { stdout } = await run("sh", ["-c", script], {
      env: { ...env, OUTPOST_SYSTEMD_RUN: join(dir, "absent"), OUTPOST_SHUTDOWN: shutdown },
    });
    expect(stdout).toBe("shutdown scheduled in 2 min by shutdown\n");
    expect(await calls("shutdown")).toEqual(["-P", "+2"]);
  });

  it("passes a service or container name as one argument after --, never through the shell", async () => {
    await run("sh", ["-c", serviceScript("nginx@a-1.service", "restart")], { env });
    expect((await calls("systemctl")).slice(-3)).toEqual(["restart", "--", "nginx@a-1.service"]);
    await run("sh", ["-c", containerScript("web_1", "stop", 7)], { env });
    expect(await calls("docker")).toEqual(["stop", "-t", "7", "--", "web_1"]);
    expect(() => serviceScript("x; reboot", "stop")).toThrow();
    expect(() => containerScript("-rm", "stop")).toThrow();
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
  });
});
