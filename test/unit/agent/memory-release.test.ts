// Full GCs after a burst of work (issue 25): two of them, after the last frame of the burst;
// one after each heartbeat; other routine frames (pongs, metrics) trigger none; nothing without
// --expose-gc.
import { describe, expect, it } from "vitest";
import {
  AFTER_HEARTBEAT_MS,
  MemoryRelease,
  RELEASE_AFTER_MS,
  TRANSFER_GC_BYTES,
  TransferGarbage,
} from "../../../agent/memory-release";
import { FakeClock } from "./fake-clock";

describe("MemoryRelease", () => {
  it("runs two full GCs once the burst's last frame is out", () => {
    const clock = new FakeClock();
    let gcs = 0;
    const release = new MemoryRelease(() => gcs++, clock);
    release.sent("inventory");
    clock.advance(RELEASE_AFTER_MS[0] - 1);
    release.sent("inventory");
    clock.advance(RELEASE_AFTER_MS[0] - 1);
    expect(gcs).toBe(0);
    clock.advance(1);
    expect(gcs).toBe(1);
    clock.advance(RELEASE_AFTER_MS[1]);
    expect(gcs).toBe(2);
    clock.advance(60_000);
    expect(gcs).toBe(2);
  });

  it("runs one full GC shortly after each heartbeat", () => {
    const clock = new FakeClock();
    let gcs = 0;
    const release = new MemoryRelease(() => gcs++, clock);
    release.sent("heartbeat");
    clock.advance(AFTER_HEARTBEAT_MS - 1);
    expect(gcs).toBe(0);
    clock.advance(1);
    expect(gcs).toBe(1);
    clock.advance(15_000);
    expect(gcs).toBe(1);
    release.sent("heartbeat");
    clock.advance(15_000);
    expect(gcs).toBe(2);
  });

  it("ignores pongs and metrics, and stops with the agent", () => {
    const clock = new FakeClock();
    let gcs = 0;
    const release = new MemoryRelease(() => gcs++, clock);
    for (const type of ["pong", "metrics", "metrics_stream"]) release.sent(type);
    clock.advance(60_000);
    expect(gcs).toBe(0);
    release.sent("heartbeat");
    release.sent("result");
    release.stop();
    clock.advance(60_000);
    expect(gcs).toBe(0);
  });

  it("does nothing when gc is not exposed", () => {
    const release = new MemoryRelease(undefined, new FakeClock());
    expect(release.enabled).toBe(false);
    release.afterWork();
  });
});

describe("TransferGarbage", () => {
  it("runs a full GC every TRANSFER_GC_BYTES of a transfer, and nothing without --expose-gc", () => {
    let gcs = 0;
    const garbage = new TransferGarbage(() => gcs++);
    const chunk = 512 * 1024;
    for (let moved = chunk; moved <= TRANSFER_GC_BYTES * 3; moved += chunk) garbage.moved(chunk);
    expect(gcs).toBe(3);
    garbage.moved(chunk);
    expect(gcs).toBe(3);
    new TransferGarbage(undefined).moved(TRANSFER_GC_BYTES * 2);
  });
});
