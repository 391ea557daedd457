import { describe, expect, it } from "vitest";
import { isoSeconds, parseIsoInstant } from "../../src/time";

describe("parseIsoInstant", () => {
  it("treats a date as the start or the end of that UTC day", () => {
    expect(parseIsoInstant("2025-06-09", "start")).toBe(Date.parse("2025-06-09T00:00:00Z"));
    expect(parseIsoInstant("2025-06-09", "end")).toBe(Date.parse("2025-06-10T00:00:00Z") - 1);
  });

  it("accepts datetimes with Z or an offset", () => {
    expect(parseIsoInstant("2025-06-09T08:00:00Z")).toBe(Date.parse("2025-06-09T08:00:00Z"));
    expect(parseIsoInstant("2025-06-09T10:00:00+02:00")).toBe(Date.parse("2025-06-09T08:00:00Z"));
  });

  it.each(["yesterday", "2025-13-01", "2025-02-30", "2025-06-09T08:00:00", "1749456000", ""])(
    "rejects %j",
    (text) => {
      expect(parseIsoInstant(text)).toBeNull();
    },
  );
});

describe("isoSeconds", () => {
  it("renders UTC with second precision", () => {
    expect(isoSeconds(Date.parse("2025-06-09T08:00:00.999Z"))).toBe("2025-06-09T08:00:00Z");
  });
});
