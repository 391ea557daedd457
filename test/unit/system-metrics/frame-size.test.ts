import { describe, expect, it } from "vitest";
import { encodeAgentFrame } from "../../../src/protocol/frames";
import type { SystemDetail, SystemMetrics } from "../../../src/protocol/system-metrics";

const GB = 1024 ** 3;

// An ordinary busy server: 8 cores, 6 mounts, 3 disks, 4 interfaces, 8 sensors, 10 containers,
// failed and running services up to the list's bound, one GPU.
function busyServer(): SystemMetrics & { detail: SystemDetail } {
  const range = (n: number) => [...Array(n).keys()];
  return {
    cpu: {
      available: true,
      usage_percent: 63.4,
      user_percent: 41.2,
      system_percent: 12.3,
      iowait_percent: 8.1,
      steal_percent: 1.8,
      cores: range(8).map((id) => ({
        id,
        usage_percent: 55.5,
        iowait_percent: 7.7,
        steal_percent: 1.1,
        frequency_mhz: 2893,
      })),
    },
    memory: {
      available: true,
      buffers_bytes: 123_456_789,
      cached_bytes: 4_123_456_789,
      swap_total_bytes: 4 * GB,
      swap_used_bytes: 1_234_567_890,
      swap_free_bytes: 3_060_399_406,
    },
    mounts: {
      available: true,
      mounts: range(6).map((i) => ({
        device: `/dev/nvme0n1p${i + 1}`,
        mount_point: i === 0 ? "/" : `/srv/data${i}`,
        filesystem: "ext4",
        total_bytes: 500 * GB,
        used_bytes: 321 * GB,
        free_bytes: 154 * GB,
        usage_percent: 67.6,
        inodes_total: 32_768_000,
        inodes_used: 1_234_567,
      })),
    },
    disk_io: {
      available: true,
      devices: ["nvme0n1", "sda", "sdb"].map((device) => ({
        device,
        read_bytes_per_second: 12_345_678.9,
        write_bytes_per_second: 23_456_789.1,
        reads_per_second: 345.6,
        writes_per_second: 456.7,
      })),
    },
    network: {
      available: true,
      interfaces: ["eth0", "eth1", "docker0", "wg0"].map((name) => ({
        name,
        rx_bytes: 123_456_789_012,
        tx_bytes: 98_765_432_109,
        rx_bytes_per_second: 1_234_567.8,
        tx_bytes_per_second: 987_654.3,
      })),
    },
    sockets: {
      available: true,
      tcp_in_use: 1234,
      tcp_time_wait: 456,
      tcp_orphaned: 3,
      udp_in_use: 12,
      tcp6_in_use: 78,
      udp6_in_use: 4,
    },
    temperatures: {
      available: true,
      sensors: range(8).map((i) => ({
        name: `coretemp/Core ${i}`,
        celsius: 54.2,
        high_celsius: 80,
        critical_celsius: 100,
      })),
    },
    detail: {
      collected_at: 1_764_900_000_000,
      processes: {
        available: true,
        total: 412,
        running: 3,
        top_cpu: range(5).map((i) => ({
          pid: 10_000 + i,
          name: "postgres",
          cpu_percent: 87.3,
          rss_bytes: 1_234_567_890,
        })),
        top_memory: range(5).map((i) => ({
          pid: 20_000 + i,
          name: "java",
          cpu_percent: 12.1,
          rss_bytes: 4_234_567_890,
        })),
      },
      containers: {
        available: true,
        total: 10,
        running: 9,
        containers: range(10).map((i) => ({
          id: "0123456789ab",
          name: `app-web-${i}`,
          image: "registry.example.com/team/app:1.2.3",
          state: "running",
        })),
      },
      services: {
        available: true,
        total: 180,
        active: 45,
        failed: 1,
        services: range(30).map((i) => ({
          name: `service-number-${i}.service`,
          state: "active",
          sub_state: "running",
        })),
      },
      gpu: {
        available: true,
        gpus: [
          {
            index: 0,
            name: "NVIDIA GeForce RTX 3080",
            vendor: "nvidia",
            utilization_percent: 42,
            memory_used_bytes: 2 * GB,
            memory_total_bytes: 10 * GB,
            temperature_celsius: 61,
            power_watts: 120.5,
          },
        ],
      },
    },
  };
}

const host = {
  cpu: { cores: 8, load_1m: 3.21, load_5m: 2.87, load_15m: 2.5, usage_percent: 63.4 },
  memory: { total_bytes: 32 * GB, available_bytes: 12 * GB, used_bytes: 20 * GB },
  disk: { total_bytes: 500 * GB, available_bytes: 154 * GB, used_bytes: 346 * GB },
  uptime_seconds: 1_234_567,
};
const agent = {
  version: "1.2.3",
  uptime_seconds: 123_456,
  rss_bytes: 45_000_000,
  commands_run: 1234,
  commands_failed: 12,
  reconnects: 3,
  frames_in: 123_456,
  frames_out: 234_567,
  errors: 1,
  ssh_verifications: 0,
};

const size = (frame: string) => new TextEncoder().encode(frame).length;

describe("frame sizes with the fuller metrics", () => {
  it("a busy server's heartbeat stays under 6 KiB (the issue's bound is 8 KiB)", () => {
    const { detail: _detail, ...system } = busyServer();
    const frame = encodeAgentFrame({
      type: "heartbeat",
      host,
      agent,
      checks: [{ name: "disk", ok: true, message: "root filesystem 68% full (154.0 GiB free)" }],
      system,
    });
    expect(size(frame)).toBeLessThan(6 * 1024);
  });

  it("the detail sections, in their own frame once a minute, stay under 8 KiB at their list bounds", () => {
    const frame = encodeAgentFrame({ type: "metrics_detail", detail: busyServer().detail });
    expect(size(frame)).toBeLessThan(8 * 1024);
  });
});
