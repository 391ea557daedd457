import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CpuCollector } from "../../../agent/system-metrics/cpu";
import { collectDiskIo } from "../../../agent/system-metrics/disk-io";
import { MountsCollector } from "../../../agent/system-metrics/mounts";
import { collectNetwork } from "../../../agent/system-metrics/network";
import { ProcessesCollector } from "../../../agent/system-metrics/processes";
import { CounterRates } from "../../../agent/system-metrics/rates";
import { SystemSampler } from "../../../agent/system-metrics/sampler";
import { collectTemperatures } from "../../../agent/system-metrics/temperatures";
import { SystemDetailSchema, SystemMetricsSchema } from "../../../src/protocol/system-metrics";

// The collectors read from a root directory, so each runs here against a fake /proc and /sys.
const fixtures = join(__dirname, "fixtures");
let root: string;

function put(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}
function copy(fixture: string, path: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  copyFileSync(join(fixtures, fixture), join(root, path));
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "sysmetrics-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("collectors against a fake root", () => {
  it("cpu: per-core shares between two reads, frequency from cpufreq", async () => {
    copy("stat-1", "proc/stat");
    put("sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "2400000\n");
    const cpu = new CpuCollector(root);
    await cpu.collect();
    copy("stat-2", "proc/stat");
    const section = await cpu.collect();
    expect(section).toMatchObject({
      available: true,
      usage_percent: 47.4,
      iowait_percent: 10.5,
      steal_percent: 5.3,
    });
    if (!section.available) throw new Error("unavailable");
    expect(section.cores).toEqual([
      { id: 0, usage_percent: 68.4, iowait_percent: 10.5, steal_percent: 5.3, frequency_mhz: 2400 },
      { id: 1, usage_percent: 26.3, iowait_percent: 10.5, steal_percent: 5.3, frequency_mhz: null },
    ]);
  });

  it("cpu: unavailable without /proc/stat", async () => {
    expect((await new CpuCollector(root).collect()).available).toBe(false);
  });

  it("disk io: rates per whole disk, a reset counter is not a negative rate", async () => {
    for (const d of ["sda", "nvme0n1", "loop0"]) mkdirSync(join(root, "sys/block", d), { recursive: true });
    const rates = new CounterRates();
    copy("diskstats-1", "proc/diskstats");
    const first = await collectDiskIo(rates, 0, root);
    expect(first).toMatchObject({
      available: true,
      devices: [{ device: "sda", read_bytes_per_second: 0 }, { device: "nvme0n1" }],
    });
    copy("diskstats-2", "proc/diskstats");
    const second = await collectDiskIo(rates, 10_000, root);
    if (!second.available) throw new Error("unavailable");
    expect(second.devices[0]).toEqual({
      device: "sda",
      read_bytes_per_second: 1_048_576,
      write_bytes_per_second: 2_097_152,
      reads_per_second: 10,
      writes_per_second: 5,
    });
    for (const d of second.devices) {
      expect(d.read_bytes_per_second).toBeGreaterThanOrEqual(0);
      expect(d.write_bytes_per_second).toBeGreaterThanOrEqual(0);
    }
    expect(second.devices[1].read_bytes_per_second).toBe((2000 * 512) / 10);
  });

  it("network: rates per interface", async () => {
    const rates = new CounterRates();
    copy("net-dev-1", "proc/net/dev");
    await collectNetwork(rates, 0, root);
    copy("net-dev-2", "proc/net/dev");
    const section = await collectNetwork(rates, 10_000, root);
    expect(section).toEqual({
      available: true,
      interfaces: [
        {
          name: "eth0",
          rx_bytes: 1_100_000,
          tx_bytes: 2_200_000,
          rx_bytes_per_second: 10_000,
          tx_bytes_per_second: 20_000,
        },
        { name: "docker0", rx_bytes: 1000, tx_bytes: 500, rx_bytes_per_second: 100, tx_bytes_per_second: 50 },
      ],
    });
  });

  it("mounts: real filesystems only, each sized; a hung statfs is skipped from then on", async () => {
    copy("mountinfo", "proc/self/mountinfo");
    const asked: string[] = [];
    const collector = new MountsCollector(root, async (path) => {
      asked.push(path);
      if (path === "/mnt/nfs") return new Promise(() => undefined); // never answers
      return { blocks: 1000, bfree: 500, bavail: 400, bsize: 4096, files: 100, ffree: 90 };
    });
    const section = await collector.collect();
    if (!section.available) throw new Error("unavailable");
    expect(section.mounts.map((m) => m.mount_point)).toEqual(["/", "/boot"]);
    expect(section.mounts[0]).toMatchObject({ device: "/dev/sda1", filesystem: "ext4", inodes_used: 10 });
    asked.length = 0;
    await collector.collect();
    expect(asked).toEqual(["/", "/boot"]);
  }, 10_000);

  it("temperatures: hwmon with labels, else thermal zones, else unavailable", async () => {
    expect((await collectTemperatures(root)).available).toBe(false);
    put("sys/class/thermal/thermal_zone0/type", "cpu-thermal\n");
    put("sys/class/thermal/thermal_zone0/temp", "51234\n");
    expect(await collectTemperatures(root)).toEqual({
      available: true,
      sensors: [
        { name: "cpu-thermal/thermal_zone0", celsius: 51.2, high_celsius: null, critical_celsius: null },
      ],
    });
    put("sys/class/hwmon/hwmon0/name", "coretemp\n");
    put("sys/class/hwmon/hwmon0/temp1_input", "45000\n");
    put("sys/class/hwmon/hwmon0/temp1_label", "Package id 0\n");
    put("sys/class/hwmon/hwmon0/temp1_crit", "100000\n");
    expect(await collectTemperatures(root)).toEqual({
      available: true,
      sensors: [{ name: "coretemp/Package id 0", celsius: 45, high_celsius: null, critical_celsius: 100 }],
    });
  });

  it("processes: counts and top lists from /proc/[pid]/stat", async () => {
    copy("pid-stat", "proc/1234/stat");
    put("proc/1/stat", "1 (systemd) S 0 1 1 0 -1 4194560 1 0 0 0 50 50 0 0 20 0 1 0 1 1 3000\n");
    put("proc/uptime", "1000.00 900.00\n");
    const section = await new ProcessesCollector(root).collect(Date.now());
    expect(section).toMatchObject({ available: true, total: 2, running: 0 });
    if (!section.available) throw new Error("unavailable");
    expect(section.top_memory.map((p) => p.name)).toEqual(["systemd", "my (weird) app"]);
  });

  it("the sampler returns every section, valid against the protocol, each unavailable one with a reason", async () => {
    copy("stat-1", "proc/stat");
    copy("meminfo", "proc/meminfo");
    copy("sockstat", "proc/net/sockstat");
    const sampler = new SystemSampler(root);
    const snapshot = await sampler.sample(Date.now());
    expect(() => v.parse(SystemMetricsSchema, snapshot)).not.toThrow();
    expect(snapshot.cpu.available).toBe(true);
    expect(snapshot.memory.available).toBe(true);
    expect(snapshot.sockets.available).toBe(true);
    expect(snapshot.network).toMatchObject({ available: false, reason: expect.any(String) });
    const detail = await sampler.sampleDetail(Date.now());
    expect(() => v.parse(SystemDetailSchema, detail)).not.toThrow();
    expect(detail.gpu).toMatchObject({ available: false, reason: expect.any(String) });
  }, 20_000);
});
