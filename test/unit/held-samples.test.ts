import { describe, expect, it } from "vitest";
import {
  appendHeld,
  HELD_MAX_BYTES,
  heldBytes,
  readHeld,
} from "../../durable-objects/node-session/held-samples";
import { seriesValues } from "../../src/metrics-history/buckets";
import type { MetricsSample } from "../../src/nodes/metrics-sample";

const sample = (at: number, checks: MetricsSample["checks"] = []): MetricsSample => ({
  at,
  host: {
    cpu: { cores: 8, load_1m: 0.42, load_5m: 0.51, load_15m: 0.6, usage_percent: 12.5 },
    memory: { total_bytes: 16_777_216_000, available_bytes: 9_123_456_789, used_bytes: 7_653_759_211 },
    disk: { total_bytes: 512_110_190_592, available_bytes: 301_234_567_890, used_bytes: 210_875_622_702 },
    uptime_seconds: 1_234_567,
  },
  agent: {
    version: "1.4.2",
    uptime_seconds: 86_400,
    rss_bytes: 48_234_496,
    commands_run: 120,
    commands_failed: 3,
    reconnects: 1,
    frames_in: 5_210,
    frames_out: 6_333,
    errors: 0,
    ssh_verifications: 0,
  },
  checks,
});

describe("held samples (a connection attachment's compact form)", () => {
  it("reads back what the storage keeps: the sample and its tier values, the snapshot's series included", () => {
    const a = sample(1_765_000_000_000, [{ name: "disk", ok: true }]);
    const b = sample(1_765_000_015_000, [{ name: "disk", ok: false, message: "93 % used" }]);
    const values = { ...seriesValues(b.host), swap: 12.5, net_rx_bps: 1200, net_tx_bps: 800 };
    const held = appendHeld(appendHeld(undefined, { sample: a, values: seriesValues(a.host) }), {
      sample: b,
      values,
      system: {} as never,
    });
    const back = readHeld(held);
    expect(back.map((s) => s.sample)).toEqual([a, b]);
    expect(back[0].values).toEqual(seriesValues(a.host));
    expect(back[0].hadSystem).toBe(false);
    expect(back[1].values).toEqual(values);
    expect(back[1].hadSystem).toBe(true);
  });

  it("keeps several realistic heartbeats within its budget, and counts wide characters twice", () => {
    let held: string | undefined;
    let n = 0;
    while (true) {
      const next = appendHeld(held, { sample: sample(1_765_000_000_000 + n * 15_000), values: {} });
      if (heldBytes(next) > HELD_MAX_BYTES) break;
      held = next;
      n++;
    }
    // ~230 bytes a heartbeat with full-size byte counts: 5 fit.
    expect(n).toBeGreaterThanOrEqual(4);
    expect(heldBytes("ab")).toBe(2);
    expect(heldBytes("a€")).toBe(4);
  });
});
