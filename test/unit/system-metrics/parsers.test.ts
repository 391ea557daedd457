import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSystemctl } from "../../../agent/inventory/parse/services";
import { cpuShares, parseCpuinfoMhz, parseProcStat } from "../../../agent/system-metrics/cpu";
import { parseDiskstats, wholeDisks } from "../../../agent/system-metrics/disk-io";
import { NVIDIA_SMI_ARGS, parseNvidiaSmi } from "../../../agent/system-metrics/gpu";
import { memoryDetail, parseMeminfo } from "../../../agent/system-metrics/memory";
import { mountUsage } from "../../../agent/system-metrics/mounts";
import { parseNetDev } from "../../../agent/system-metrics/network";
import { pageSizeFrom, parsePidStat, topProcesses } from "../../../agent/system-metrics/processes";
import { CounterRates } from "../../../agent/system-metrics/rates";
import { servicesSection } from "../../../agent/system-metrics/services";
import { parseSockstat } from "../../../agent/system-metrics/sockets";
import { toSensors } from "../../../agent/system-metrics/temperatures";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", name), "utf8");

describe("rates from counters", () => {
  it("has no rate for the first sample, then bytes per second", () => {
    const rates = new CounterRates();
    expect(rates.update("eth0", [1000], 0)).toBeNull();
    expect(rates.update("eth0", [6000], 5000)).toEqual([1000]);
  });

  it("treats a counter that went down as reset to zero, never a negative rate", () => {
    const rates = new CounterRates();
    rates.update("sda", [1_000_000, 50], 0);
    expect(rates.update("sda", [2000, 60], 2000)).toEqual([1000, 5]);
  });

  it("forgets keys that went away", () => {
    const rates = new CounterRates();
    rates.update("a", [1], 0);
    rates.retain(new Set());
    expect(rates.update("a", [5], 1000)).toBeNull();
  });
});

describe("cpu (/proc/stat)", () => {
  const before = parseProcStat(fixture("stat-1"));
  const after = parseProcStat(fixture("stat-2"));

  it("reads the aggregate and every core", () => {
    expect([...after.keys()]).toEqual(["all", 0, 1]);
    expect(after.get(0)).toEqual({
      user: 5500,
      nice: 250,
      system: 1600,
      idle: 40200,
      iowait: 600,
      irq: 50,
      softirq: 100,
      steal: 200,
    });
  });

  it("computes busy, iowait and steal shares from the deltas", () => {
    expect(cpuShares(before.get("all")!, after.get("all")!)).toEqual({
      usage_percent: 47.4,
      user_percent: 31.6,
      system_percent: 10.5,
      iowait_percent: 10.5,
      steal_percent: 5.3,
    });
    expect(cpuShares(before.get(0)!, after.get(0)!)?.usage_percent).toBe(68.4);
  });

  it("gives no shares when counters went backwards (a hot-plugged core)", () => {
    expect(cpuShares(after.get(0)!, before.get(0)!)).toBeNull();
  });

  it("reads cpu MHz from /proc/cpuinfo", () => {
    expect(
      parseCpuinfoMhz("processor\t: 0\ncpu MHz\t\t: 2400.123\nprocessor\t: 1\ncpu MHz\t\t: 1800.9\n"),
    ).toEqual([2400, 1801]);
  });
});

describe("memory (/proc/meminfo)", () => {
  it("reports swap, buffers and cache (SReclaimable counted as cache)", () => {
    expect(memoryDetail(parseMeminfo(fixture("meminfo")))).toEqual({
      available: true,
      buffers_bytes: 102400 * 1024,
      cached_bytes: (2048000 + 204800) * 1024,
      swap_total_bytes: 2097152 * 1024,
      swap_used_bytes: (2097152 - 1572864) * 1024,
      swap_free_bytes: 1572864 * 1024,
    });
  });

  it("is unavailable without swap lines", () => {
    expect(memoryDetail(parseMeminfo("MemTotal: 1 kB\n")).available).toBe(false);
  });
});

describe("mounts", () => {
  it("sizes a filesystem like df, with inodes", () => {
    expect(
      mountUsage({ blocks: 1000, bfree: 300, bavail: 250, bsize: 4096, files: 500, ffree: 400 }),
    ).toEqual({
      total_bytes: 4_096_000,
      used_bytes: 2_867_200,
      free_bytes: 1_024_000,
      usage_percent: 73.7,
      inodes_total: 500,
      inodes_used: 100,
    });
  });
});

describe("disk io (/proc/diskstats)", () => {
  it("keeps whole disks only (no partitions, no loop devices), bytes from 512-byte sectors", () => {
    const disks = wholeDisks(parseDiskstats(fixture("diskstats-1")), new Set(["loop0", "sda", "nvme0n1"]));
    expect(disks.map((d) => d.device)).toEqual(["sda", "nvme0n1"]);
    expect(disks[0]).toEqual({
      device: "sda",
      reads: 1000,
      read_bytes: 200000 * 512,
      writes: 2000,
      write_bytes: 400000 * 512,
    });
  });
});

describe("network (/proc/net/dev)", () => {
  it("reads bytes per interface, leaving out loopback and container veths", () => {
    expect(parseNetDev(fixture("net-dev-1"))).toEqual([
      { name: "eth0", rx_bytes: 1_000_000, tx_bytes: 2_000_000 },
      { name: "docker0", rx_bytes: 0, tx_bytes: 0 },
    ]);
  });
});

describe("sockets (/proc/net/sockstat)", () => {
  it("reads TCP and UDP counts for v4 and v6", () => {
    expect(parseSockstat(fixture("sockstat"), fixture("sockstat6"))).toEqual({
      available: true,
      tcp_in_use: 12,
      tcp_time_wait: 7,
      tcp_orphaned: 1,
      udp_in_use: 4,
      tcp6_in_use: 5,
      udp6_in_use: 2,
    });
  });
});

describe("temperatures", () => {
  it("converts millidegrees and drops missing or absurd readings", () => {
    expect(
      toSensors([
        { name: "coretemp/Package id 0", input: "45000", max: "80000", crit: "100000" },
        { name: "acpitz/temp1", input: null, max: null, crit: null },
        { name: "bogus/temp1", input: "-273000", max: null, crit: null },
        { name: "nvme/Composite", input: "38850", max: null, crit: null },
      ]),
    ).toEqual([
      { name: "coretemp/Package id 0", celsius: 45, high_celsius: 80, critical_celsius: 100 },
      { name: "nvme/Composite", celsius: 38.9, high_celsius: null, critical_celsius: null },
    ]);
  });
});

describe("processes (/proc/[pid]/stat)", () => {
  it("reads a name with spaces and parentheses", () => {
    expect(parsePidStat(fixture("pid-stat"))).toEqual({
      pid: 1234,
      name: "my (weird) app",
      state: "S",
      cpu_ticks: 400,
      start_ticks: 5000,
      rss_pages: 2560,
    });
  });

  it("derives the page size from our own statm and VmRSS", () => {
    expect(pageSizeFrom("1000 250 100 1 0 200 0", "Name:\tnode\nVmRSS:\t    1000 kB\n")).toBe(4096);
    expect(pageSizeFrom(null, null)).toBe(4096);
  });

  it("ranks by CPU since the previous scan (lifetime average for new processes) and by RSS", () => {
    const stats = [
      { pid: 1, name: "init", state: "S", cpu_ticks: 1000, start_ticks: 0, rss_pages: 100 },
      { pid: 2, name: "busy", state: "R", cpu_ticks: 5000, start_ticks: 100, rss_pages: 10 },
      { pid: 3, name: "fat", state: "S", cpu_ticks: 10, start_ticks: 100, rss_pages: 100_000 },
    ];
    const previous = new Map([
      ["1:0", 1000],
      ["2:100", 4000],
    ]);
    const section = topProcesses(stats, previous, 10, 1000, 4096);
    expect(section.total).toBe(3);
    expect(section.running).toBe(1);
    expect(section.top_cpu[0]).toEqual({ pid: 2, name: "busy", cpu_percent: 100, rss_bytes: 40960 });
    expect(section.top_cpu.find((p) => p.pid === 1)?.cpu_percent).toBe(0);
    expect(section.top_memory[0].name).toBe("fat");
  });
});

describe("systemd services", () => {
  it("counts every service and lists failed ones first, then running ones", () => {
    const section = servicesSection(parseSystemctl(fixture("systemctl-units"), ""));
    expect(section).toMatchObject({ total: 4, active: 2, failed: 1 });
    expect(section.services).toEqual([
      { name: "nginx.service", state: "failed", sub_state: "failed" },
      { name: "cron.service", state: "active", sub_state: "running" },
      { name: "ssh.service", state: "active", sub_state: "running" },
    ]);
  });
});

describe("gpu (nvidia-smi)", () => {
  it("asks for CSV without units and reads N/A fields as null", () => {
    expect(NVIDIA_SMI_ARGS).toContain("--format=csv,noheader,nounits");
    expect(parseNvidiaSmi(fixture("nvidia-smi.csv"))).toEqual([
      {
        index: 0,
        name: "NVIDIA GeForce RTX 3080",
        vendor: "nvidia",
        utilization_percent: 42,
        memory_used_bytes: 2048 * 1024 * 1024,
        memory_total_bytes: 10240 * 1024 * 1024,
        temperature_celsius: 61,
        power_watts: 120.5,
      },
      {
        index: 1,
        name: "Tesla T4",
        vendor: "nvidia",
        utilization_percent: null,
        memory_used_bytes: 0,
        memory_total_bytes: 15360 * 1024 * 1024,
        temperature_celsius: 35,
        power_watts: null,
      },
    ]);
  });
});
