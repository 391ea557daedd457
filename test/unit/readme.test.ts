import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SETTINGS } from "../../src/settings";

describe("README", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

  it("documents every setting (regenerate with npm run settings:table -- --write)", () => {
    for (const s of SETTINGS) expect(readme, s.name).toContain(`| \`${s.name}\` |`);
  });

  it("shows the two quick-start commands", () => {
    expect(readme).toContain("npm start");
    expect(readme).toContain("npm test");
  });
});
