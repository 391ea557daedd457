import { describe, expect, it } from "vitest";
import { allocateBlock, intToIpv4, ipv4ToInt, overlaps, parseCidr } from "../../src/net/cidr";

function block(text: string) {
  const parsed = parseCidr(text);
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed.block;
}

describe("parseCidr", () => {
  it("parses a network address into its first and last address", () => {
    const b = block("100.64.1.0/24");
    expect(intToIpv4(b.start)).toBe("100.64.1.0");
    expect(intToIpv4(b.end)).toBe("100.64.1.255");
  });

  it.each(["10.0.0.0", "10.0.0/8", "256.0.0.0/8", "10.0.0.01/32", "10.0.0.0/33", "a.b.c.d/8", " 10.0.0.0/8"])(
    "rejects %s",
    (text) => expect(parseCidr(text)).toHaveProperty("error"),
  );

  it("points out set host bits instead of widening silently", () => {
    expect(parseCidr("100.64.1.7/24")).toEqual({ error: "host bits are set; did you mean 100.64.1.0/24?" });
  });

  it("enforces prefix bounds when asked", () => {
    expect(parseCidr("10.0.0.0/31", 8, 30)).toHaveProperty("error");
    expect(parseCidr("10.0.0.0/7", 8, 30)).toHaveProperty("error");
  });
});

describe("allocateBlock", () => {
  const pool = block("100.64.0.0/16");

  it("takes the lowest free aligned block", () => {
    expect(allocateBlock(pool, 24, [])?.cidr).toBe("100.64.0.0/24");
    expect(allocateBlock(pool, 24, [block("100.64.0.0/24"), block("100.64.1.0/24")])?.cidr).toBe(
      "100.64.2.0/24",
    );
  });

  it("skips past larger and unaligned neighbours", () => {
    expect(allocateBlock(pool, 24, [block("100.64.0.0/22")])?.cidr).toBe("100.64.4.0/24");
    expect(allocateBlock(pool, 24, [block("100.64.0.128/25")])?.cidr).toBe("100.64.1.0/24");
  });

  it("fills holes and reports a full pool", () => {
    expect(allocateBlock(pool, 24, [block("100.64.1.0/24")])?.cidr).toBe("100.64.0.0/24");
    expect(allocateBlock(pool, 24, [pool])).toBeNull();
    expect(allocateBlock(block("10.0.0.0/24"), 16, [])).toBeNull();
  });

  it("never returns a block overlapping a taken one", () => {
    const taken = [block("100.64.3.0/24"), block("100.64.0.0/23"), block("100.64.8.0/21")];
    const got = allocateBlock(pool, 22, taken)!;
    expect(taken.some((t) => overlaps(t, got))).toBe(false);
    expect(got.cidr).toBe("100.64.4.0/22");
  });
});

describe("ipv4ToInt", () => {
  it("round-trips", () => {
    expect(intToIpv4(ipv4ToInt("255.255.255.255")!)).toBe("255.255.255.255");
    expect(ipv4ToInt("1.2.3")).toBeNull();
  });
});
