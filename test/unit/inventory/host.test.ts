import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { contentHash } from "../../../agent/inventory/hash";
import {
  lastlogTime,
  loginAllowed,
  parseGroup,
  parsePasswd,
  parseUidMin,
} from "../../../agent/inventory/parse/accounts";
import { parseBootTime, parseCpuinfo } from "../../../agent/inventory/parse/cpu-memory";
import { parseMountinfo } from "../../../agent/inventory/parse/mounts";
import { hexToIpv4, parseDefaultRoute, parseListeningSockets } from "../../../agent/inventory/parse/proc-net";
import { parseSystemctl } from "../../../agent/inventory/parse/services";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", name), "utf8");

describe("accounts", () => {
  it("reads /etc/passwd, skipping NIS and malformed lines", () => {
    const users = parsePasswd(fixture("passwd"));
    expect(users.map((u) => u.username)).toEqual(["root", "daemon", "sync", "sshd", "alice", "bob"]);
    expect(users[0]).toEqual({
      username: "root",
      uid: 0,
      gid: 0,
      home_directory: "/root",
      shell: "/bin/bash",
    });
    expect(users.map((u) => loginAllowed(u.shell))).toEqual([true, false, true, false, true, false]);
  });

  it("reads /etc/group members and UID_MIN", () => {
    const groups = parseGroup(fixture("group"));
    expect(groups.find((g) => g.name === "sudo")?.members).toEqual(["alice", "bob"]);
    expect(groups.find((g) => g.name === "users")?.members).toEqual([]);
    expect(parseUidMin(fixture("login.defs"))).toBe(500);
    expect(parseUidMin(null)).toBe(1000);
  });

  it("reads a lastlog record at uid × 292", () => {
    const buffer = Buffer.alloc(292 * 3);
    buffer.writeInt32LE(1_700_000_000, 292 * 2);
    expect(lastlogTime(buffer, 2)).toBe("2023-11-14T22:13:20.000Z");
    expect(lastlogTime(buffer, 1)).toBeNull();
    expect(lastlogTime(buffer, 1000)).toBeNull();
  });
});

describe("/proc", () => {
  it("finds the default route in /proc/net/route recorded on the test machine", () => {
    expect(parseDefaultRoute(fixture("proc-net-route.txt"))).toEqual({ iface: "eth0", gateway: "192.0.2.1" });
    expect(hexToIpv4("0100007F")).toBe("127.0.0.1");
    expect(parseDefaultRoute("Iface\tDestination\n")).toBeNull();
  });

  it("reads listening TCP sockets (v4 recorded, v6 with loopback and mapped addresses)", () => {
    const v4 = parseListeningSockets(fixture("proc-net-tcp.txt"), "tcp");
    expect(v4.length).toBeGreaterThan(0);
    expect(v4.every((s) => s.port > 0)).toBe(true);
    const v6 = parseListeningSockets(fixture("proc-net-tcp6.txt"), "tcp6");
    expect(v6).toEqual([
      { address: "::", port: 22, uid: 0, inode: 23456 },
      { address: "::1", port: 631, uid: 116, inode: 23457 },
    ]);
  });

  it("keeps real filesystems of mountinfo: no pseudo, overlay or squashfs, one entry per bind-mounted device, escapes decoded", () => {
    const mounts = parseMountinfo(fixture("mountinfo-synthetic.txt"));
    expect(mounts.map((m) => [m.mount_point, m.filesystem, m.read_only])).toEqual([
      ["/", "ext4", false],
      ["/boot/efi", "vfat", false],
      ["/mnt/nas", "nfs4", false],
      ["/mnt/my disk", "xfs", true],
    ]);
    const recorded = parseMountinfo(fixture("mountinfo-vm.txt"));
    expect(recorded.map((m) => m.mount_point)).toContain("/");
  });

  it("reads cpuinfo recorded on the test machine and the boot time", () => {
    const cpu = parseCpuinfo(fixture("cpuinfo-vm.txt"));
    expect(cpu.threads).toBeGreaterThan(0);
    expect(cpu.model).not.toBeNull();
    expect(parseBootTime("cpu 1 2 3\nbtime 1700000000\n")).toBe("2023-11-14T22:13:20.000Z");
  });
});

describe("systemd services", () => {
  it("joins list-units with list-unit-files", () => {
    const services = parseSystemctl(
      [
        "ssh.service      loaded active   running OpenBSD Secure Shell server",
        "● nginx.service  loaded failed   failed  A high performance web server",
        "cron.service     loaded active   running Regular background program processing daemon",
      ].join("\n"),
      [
        "ssh.service enabled enabled",
        "nginx.service enabled enabled",
        "rsync.service disabled enabled",
        "getty@.service enabled enabled",
      ].join("\n"),
    );
    expect(services).toEqual([
      {
        name: "cron.service",
        load: "loaded",
        active: "active",
        sub: "running",
        enabled: null,
        description: "Regular background program processing daemon",
      },
      {
        name: "nginx.service",
        load: "loaded",
        active: "failed",
        sub: "failed",
        enabled: "enabled",
        description: "A high performance web server",
      },
      {
        name: "rsync.service",
        load: null,
        active: "inactive",
        sub: "dead",
        enabled: "disabled",
        description: null,
      },
      {
        name: "ssh.service",
        load: "loaded",
        active: "active",
        sub: "running",
        enabled: "enabled",
        description: "OpenBSD Secure Shell server",
      },
    ]);
  });
});

describe("content hash", () => {
  it("does not depend on key order, and ignores the check time of updates", () => {
    expect(contentHash("system", "ok", { a: 1, b: { c: 2, d: 3 } })).toBe(
      contentHash("system", "ok", { b: { d: 3, c: 2 }, a: 1 }),
    );
    expect(contentHash("system", "ok", { a: 1 })).not.toBe(contentHash("hardware", "ok", { a: 1 }));
    expect(contentHash("updates", "ok", { pending_count: 1, checked_at: "2026-01-01T00:00:00Z" })).toBe(
      contentHash("updates", "ok", { pending_count: 1, checked_at: "2026-06-01T00:00:00Z" }),
    );
  });
});
