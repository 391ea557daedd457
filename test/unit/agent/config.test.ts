import { beforeAll, describe, expect, it } from "vitest";
import { buildBundle, keyBlob, runAgentCommand, tempDir } from "./helpers";

let bundle: string;
let stateDir: string;

beforeAll(async () => {
  bundle = await buildBundle("9.8.7-test");
  stateDir = await tempDir();
});

describe("agent CLI and configuration (bundled, on Node 20)", () => {
  it("prints the version baked in at build time, and help", async () => {
    expect(await runAgentCommand(bundle, ["--version"], {})).toMatchObject({
      code: 0,
      stdout: "9.8.7-test\n",
    });
    const help = await runAgentCommand(bundle, ["--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: outpost-agent [run|enroll|status]");
  });

  it.each([
    [
      { OUTPOST_ID_TYPE: "sometimes" },
      [],
      /^outpost-agent: OUTPOST_ID_TYPE must be "persistent" or "random" \(got "sometimes"\)/,
    ],
    [
      { OUTPOST_HEARTBEAT_INTERVAL: "0" },
      [],
      /OUTPOST_HEARTBEAT_INTERVAL must be between 1 and 3600 seconds \(got "0"\)/,
    ],
    [
      { OUTPOST_HEARTBEAT_INTERVAL: "fast" },
      [],
      /OUTPOST_HEARTBEAT_INTERVAL must be a whole number of seconds/,
    ],
    [{ OUTPOST_STATE_DIR: "relative/dir" }, [], /OUTPOST_STATE_DIR must be an absolute path/],
    [{ OUTPOST_LOG_LEVEL: "loud" }, [], /OUTPOST_LOG_LEVEL must be one of debug, info, warn, error/],
    [{ OUTPOST_OUTPUT_LIMIT_BYTES: "10" }, [], /OUTPOST_OUTPUT_LIMIT_BYTES must be between 1024 and/],
    [{}, ["--id-type", "x"], /^outpost-agent: --id-type must be "persistent" or "random"/],
    [{}, ["--bogus"], /Unknown option '--bogus'/],
    [{}, ["launch"], /unknown command "launch"/],
    [{ ENROLLMENT_KEY: "not-a-key-at-all" }, [], /ENROLLMENT_KEY is not an Outpost enrollment key/],
    [
      { ENROLLMENT_KEY: keyBlob("ftp://x", "k") },
      [],
      /ENROLLMENT_KEY names a server that is not an http\(s\) URL/,
    ],
    [{}, [], /ENROLLMENT_KEY is not set and this node is not enrolled yet/],
  ])("exits 2 with one clear line for %j %j", async (env, args, message) => {
    const { code, stderr, stdout } = await runAgentCommand(bundle, args, {
      OUTPOST_STATE_DIR: stateDir,
      ...env,
    });
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("never echoes the enrollment key in an error", async () => {
    const { stderr } = await runAgentCommand(bundle, [], {
      OUTPOST_STATE_DIR: stateDir,
      ENROLLMENT_KEY: "c2VjcmV0LXNlY3JldA==",
    });
    expect(stderr).not.toContain("c2VjcmV0LXNlY3JldA==");
  });
});
