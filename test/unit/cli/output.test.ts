import { describe, expect, it } from "vitest";
import { LiveOutput } from "../../../cli/live-output";
import { renderTable } from "../../../cli/output";
import { sparkline } from "../../../cli/sparkline";

describe("sparkline", () => {
  it("scales values onto eight bars and leaves gaps blank", () => {
    expect(sparkline([0, 50, 100, null, 100], 10, { min: 0, max: 100 })).toBe("▁▅█ █");
  });
  it("averages down to the width", () => {
    expect(sparkline([0, 0, 100, 100], 2, { min: 0, max: 100 })).toBe("▁█");
  });
  it("draws a flat series as the lowest bar", () => {
    expect(sparkline([7, 7, 7], 3)).toBe("▁▁▁");
  });
});

describe("renderTable", () => {
  it("aligns columns under upper-case headers and prints empty cells as -", () => {
    expect(
      renderTable(
        ["id", "tags"],
        [
          ["a", ["web", "db"]],
          ["bbb", []],
        ],
      ),
    ).toBe("ID   TAGS\na    web,db\nbbb  -");
  });
});

describe("LiveOutput", () => {
  function capture() {
    let text = "";
    const live = new LiveOutput(
      new Map([
        ["e1", "web-1"],
        ["e2", "db"],
      ]),
      { write: (t) => (text += t) },
    );
    return { live, text: () => text };
  }

  it("prefixes whole lines with the padded label and holds a partial line", () => {
    const { live, text } = capture();
    live.of("e1").offer("one\ntw");
    expect(text()).toBe("web-1 | one\n");
    live.of("e1").offer("one\ntwo\n");
    live.of("e2").finish("x");
    expect(text()).toBe("web-1 | one\nweb-1 | two\ndb    | x\n");
  });

  it("prints a replayed stream and the stored output only once", () => {
    const { live, text } = capture();
    live.of("e1").offer("a\nb\n");
    live.of("e1").offer("a\n"); // a reopened stream replays from the start
    live.of("e1").offer("a\nb\nc\n");
    live.of("e1").finish("a\nb\nc\nd");
    expect(text()).toBe("web-1 | a\nweb-1 | b\nweb-1 | c\nweb-1 | d\n");
  });
});
