// The dev runner's `.dev.vars`: generated keys are long enough for the Worker (review L9), a file
// it appends keys to is tightened to 0600 (review L13), and a short key stops it with a clear message.
import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureDevVars, parseDotenv } from "../../scripts/dev/config.mjs";
import { tempDir } from "./agent/helpers";

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe(".dev.vars", () => {
  it("is created 0600 with keys of at least 24 characters", async () => {
    const file = join(await tempDir("outpost-devvars-"), ".dev.vars");
    const { vars } = ensureDevVars(file);
    expect(await mode(file)).toBe(0o600);
    for (const k of ["API_KEY", "MASTER_KEY", "ENCRYPTION_KEY"])
      expect(vars[k].length).toBeGreaterThanOrEqual(24);
  });

  it("is tightened to 0600 when keys are appended to an existing file", async () => {
    const file = join(await tempDir("outpost-devvars-"), ".dev.vars");
    await writeFile(file, "PUBLIC_API_URL=http://127.0.0.1:8787\n");
    await chmod(file, 0o644);
    const { note } = ensureDevVars(file);
    expect(note).toMatch(/added API_KEY, MASTER_KEY, ENCRYPTION_KEY/);
    expect(await mode(file)).toBe(0o600);
    const vars = parseDotenv(await readFile(file, "utf8"));
    expect(vars.PUBLIC_API_URL).toBe("http://127.0.0.1:8787");
    expect(vars.ENCRYPTION_KEY.length).toBeGreaterThanOrEqual(24);
  });

  it("refuses a key shorter than 24 characters, naming it but not its value", async () => {
    const file = join(await tempDir("outpost-devvars-"), ".dev.vars");
    await writeFile(file, "API_KEY=short-secret\n", { mode: 0o600 });
    expect(() => ensureDevVars(file)).toThrow(/^API_KEY in .* is shorter than 24 characters/);
    expect(() => ensureDevVars(file)).not.toThrow(/short-secret/);
  });
});
