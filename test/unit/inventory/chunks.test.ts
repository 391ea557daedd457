import * as v from "valibot";
import { describe, expect, it } from "vitest";
import type { CollectedSection } from "../../../agent/inventory/collectors";
import { contentHash } from "../../../agent/inventory/hash";
import { INLINE_SECTION_BYTES, InventoryReporter } from "../../../agent/inventory/reporter";
import { createLogger } from "../../../agent/log";
import { encodeAgentFrame } from "../../../src/protocol/frames";
import { assembleChunks, CHUNK_DATA_BYTES, splitText } from "../../../src/protocol/inventory-chunks";
import { InventoryChunkFrame } from "../../../src/protocol/inventory-frames";
import { SoftwareData } from "../../../src/protocol/inventory-sections";

// A section over one frame travels in slices: split on the agent, reassembled on the server,
// whatever the order, with a copy counting once and a lost slice leaving it incomplete.

/** A software section of `n` packages, about 330 bytes each with its description. */
function software(n: number) {
  return {
    package_manager: "dpkg",
    packages: Array.from({ length: n }, (_, i) => ({
      name: `package-${i}`,
      version: `1.${i % 97}.${i % 13}-${i % 5}ubuntu0.22.04.1`,
      architecture: i % 7 === 0 ? "all" : "amd64",
      status: "installed",
      description: `Package number ${i}: a library with a longish description — «ünïcödé» and "quotes" \\ and tabs\t`,
      installed_at: null,
    })),
  };
}

const chunksOf = (slices: string[]) => slices.map((data, index) => ({ index, count: slices.length, data }));

function shuffle<T>(items: T[], seed = 7): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe("splitText", () => {
  it("cuts a 5,000-package section into slices under the frame budget that join back to it", () => {
    const text = JSON.stringify(software(5_000));
    expect(Buffer.byteLength(text)).toBeGreaterThan(1024 * 1024);
    const slices = splitText(text);
    expect(slices.length).toBeGreaterThan(2);
    for (const slice of slices)
      expect(Buffer.byteLength(JSON.stringify(slice))).toBeLessThanOrEqual(CHUNK_DATA_BYTES);
    expect(slices.join("")).toBe(text);
    expect(v.parse(SoftwareData, JSON.parse(slices.join(""))).packages).toHaveLength(5_000);
  });

  it("counts escapes and multi-byte characters, and never cuts a surrogate pair", () => {
    const text = `${"\u0001".repeat(50)}${"😀".repeat(40)}${"é".repeat(30)}"\\`;
    const slices = splitText(text, 32);
    for (const slice of slices) {
      expect(Buffer.byteLength(JSON.stringify(slice))).toBeLessThanOrEqual(32);
      expect(slice).not.toMatch(/[\ud800-\udbff]$/);
    }
    expect(slices.join("")).toBe(text);
  });
});

describe("assembleChunks", () => {
  const text = JSON.stringify(software(200));
  const slices = splitText(text, 2_000);

  it("reassembles slices received in any order", () => {
    expect(assembleChunks(shuffle(chunksOf(slices)))).toEqual({ state: "complete", text });
  });

  it("counts a slice received twice once", () => {
    const chunks = chunksOf(slices);
    const doubled = shuffle([...chunks, chunks[3], chunks[0], chunks[chunks.length - 1]]);
    expect(assembleChunks(doubled)).toEqual({ state: "complete", text });
  });

  it("leaves the section incomplete, naming what is missing, when a slice is lost; the late slice completes it", () => {
    const chunks = chunksOf(slices);
    const lost = chunks.filter((c) => c.index !== 5);
    expect(assembleChunks(lost)).toEqual({ state: "incomplete", missing: [5] });
    expect(assembleChunks([...lost, chunks[5]])).toEqual({ state: "complete", text });
  });

  it("refuses slices that disagree about the count or carry different copies of one index", () => {
    const chunks = chunksOf(slices);
    expect(assembleChunks([...chunks.slice(1), { ...chunks[0], count: 99 }]).state).toBe("inconsistent");
    expect(assembleChunks([...chunks, { ...chunks[2], data: "x" }]).state).toBe("inconsistent");
    expect(assembleChunks([{ index: 4, count: 4, data: "x" }]).state).toBe("inconsistent");
  });
});

describe("the agent's report of a large section", () => {
  function reporter(collected: CollectedSection) {
    const sent: Record<string, unknown>[] = [];
    const r = new InventoryReporter({
      send: (frame) => {
        sent.push(JSON.parse(encodeAgentFrame(frame)));
        return true;
      },
      log: createLogger("error", () => {}, false),
      settings: { intervalSeconds: 3600, includeUsers: true },
      collect: async () => collected,
    });
    return { sent, r };
  }

  it("sends a section over one frame in valid slices when the server takes them, and as unavailable when not", async () => {
    const data = software(5_000);
    const collected: CollectedSection = {
      section: "software",
      status: "ok",
      data,
      content_hash: contentHash("software", "ok", data),
      collected_at: 1,
    };
    const { sent, r } = reporter(collected);
    r.request({
      v: 1,
      type: "inventory_request",
      sections: ["software"],
      refresh_cache: false,
      accepts_chunks: true,
    });
    await r.idle();
    expect(sent.length).toBeGreaterThan(2);
    for (const frame of sent) {
      expect(v.is(InventoryChunkFrame, frame)).toBe(true);
      expect(Buffer.byteLength(JSON.stringify(frame))).toBeLessThan(1024 * 1024);
    }
    const assembled = assembleChunks(sent as never);
    expect(assembled.state).toBe("complete");
    if (assembled.state === "complete") expect(JSON.parse(assembled.text)).toEqual(data);

    const old = reporter(collected);
    old.r.request({ v: 1, type: "inventory_request", sections: ["software"], refresh_cache: false });
    await old.r.idle();
    expect(old.sent).toEqual([
      expect.objectContaining({
        type: "inventory",
        status: "unavailable",
        reason: expect.stringContaining(`${INLINE_SECTION_BYTES}`),
      }),
    ]);
  });
});
