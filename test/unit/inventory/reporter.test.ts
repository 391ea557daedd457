import { describe, expect, it } from "vitest";
import { type CollectedSection, unavailable } from "../../../agent/inventory/collectors";
import { contentHash } from "../../../agent/inventory/hash";
import { InventoryReporter } from "../../../agent/inventory/reporter";
import { createLogger } from "../../../agent/log";
import { INVENTORY_SECTIONS, type InventorySection } from "../../../src/protocol/inventory-sections";
import { FakeClock } from "../agent/fake-clock";

// The reporter's protocol side with a stand-in collector: what it sends for the server's requests,
// the hashes it skips, the periodic run, and the host owner's switch for users and groups.

type Sent = {
  type: string;
  section?: string;
  status?: string;
  reason?: string;
  request_id?: string;
  content_hash?: string;
};

function setUp(includeUsers = true) {
  const sent: Sent[] = [];
  const collected: { section: InventorySection; refreshCache: boolean }[] = [];
  const clock = new FakeClock();
  const reporter = new InventoryReporter({
    send: (frame) => {
      sent.push(frame as Sent);
      return true;
    },
    log: createLogger("error", () => {}, false),
    settings: { intervalSeconds: 3600, includeUsers },
    clock,
    collect: async (section, options): Promise<CollectedSection> => {
      collected.push({ section, refreshCache: options.refreshCache });
      const data = { section };
      return { section, status: "ok", data, content_hash: contentHash(section, "ok", data), collected_at: 1 };
    },
  });
  return { sent, collected, clock, reporter };
}

const hashOf = (section: InventorySection) => contentHash(section, "ok", { section });

describe("InventoryReporter", () => {
  it("at hello sends only the sections whose hash the server does not hold", async () => {
    const { sent, reporter } = setUp();
    reporter.request({
      v: 1,
      type: "inventory_request",
      known_hashes: { system: hashOf("system"), hardware: "0".repeat(64) },
      refresh_cache: false,
    });
    await reporter.idle();
    expect(sent.map((f) => f.section)).toEqual(INVENTORY_SECTIONS.filter((s) => s !== "system"));
  });

  it("skips acknowledged content on the periodic run and sends it all on an operator's refresh", async () => {
    const { sent, reporter, clock } = setUp();
    reporter.start();
    reporter.request({ v: 1, type: "inventory_request", known_hashes: {}, refresh_cache: false });
    await reporter.idle();
    for (const s of INVENTORY_SECTIONS)
      reporter.acknowledge({ v: 1, type: "inventory_ack", section: s, content_hash: hashOf(s) });
    sent.length = 0;
    clock.advance(3600 * 1100); // past the jittered interval (≤ +10 %)
    await reporter.idle();
    expect(sent).toEqual([]);

    reporter.request({
      v: 1,
      type: "inventory_request",
      request_id: "r1",
      sections: ["updates"],
      refresh_cache: true,
    });
    await reporter.idle();
    expect(sent).toEqual([
      expect.objectContaining({ type: "inventory", section: "updates", request_id: "r1" }),
    ]);
    reporter.stop();
    expect(clock.pending).toBe(0);
  });

  it("passes refresh_cache to the updates collector only", async () => {
    const { collected, reporter } = setUp();
    reporter.request({
      v: 1,
      type: "inventory_request",
      sections: ["software", "updates"],
      refresh_cache: true,
    });
    await reporter.idle();
    expect(collected).toEqual([
      { section: "software", refreshCache: false },
      { section: "updates", refreshCache: true },
    ]);
  });

  it("never collects users or groups when the host owner turned them off, and says so", async () => {
    const { sent, collected, reporter } = setUp(false);
    reporter.request({ v: 1, type: "inventory_request", refresh_cache: false });
    await reporter.idle();
    expect(collected.map((c) => c.section)).not.toContain("users");
    expect(collected.map((c) => c.section)).not.toContain("groups");
    const users = sent.find((f) => f.section === "users");
    expect(users).toMatchObject({
      status: "unavailable",
      reason: expect.stringContaining("OUTPOST_INVENTORY_USERS=false"),
    });
    expect(users?.content_hash).toBe(unavailable("users", users?.reason ?? "").content_hash);
  });
});
