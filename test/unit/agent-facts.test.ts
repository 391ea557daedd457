// Facts an agent reports about itself (hostname, platform, arch, version) are echoed by the API
// and webhooks; both the hello frame and the enrolment request keep them to printable characters
// without < and > (review L14), so a node cannot plant markup in a dashboard.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { EnrollRequestSchema } from "../../src/protocol/enroll";
import { parseAgentFrame } from "../../src/protocol/frames";

const hello = (facts: Record<string, string>) =>
  JSON.stringify({
    v: 1,
    type: "hello",
    agent_version: "1.2.3",
    hostname: "web-01",
    platform: "linux",
    ...facts,
  });
const enrol = (facts: Record<string, string>) => ({
  key: "k",
  node_id: "6f1d5e0c-3b8a-4c55-9a4e-0b7e2f1a9c3d",
  id_type: "random",
  hostname: "web-01",
  platform: "linux",
  arch: "x64",
  version: "1.2.3",
  ...facts,
});

const BAD = [
  '<img src=x onerror="alert(1)">',
  "web>01",
  "web\u0007bell",
  "line\nbreak",
  "tab\there",
  "caf\u00e9",
  "\u202eevil",
];

describe("agent facts", () => {
  it.each(["hostname", "platform", "agent_version", "arch"])(
    "a hello with a bad %s is an invalid frame",
    (field) => {
      for (const value of BAD) {
        const parsed = parseAgentFrame(hello({ [field]: value }));
        expect("error" in parsed && parsed.error, `${field}=${JSON.stringify(value)}`).toMatch(
          /printable characters other than < and >/,
        );
      }
    },
  );

  it.each(["hostname", "platform", "version", "arch"])("an enrolment with a bad %s is refused", (field) => {
    for (const value of BAD) {
      expect(v.safeParse(EnrollRequestSchema, enrol({ [field]: value })).success, `${field}=${value}`).toBe(
        false,
      );
    }
  });

  it("accepts what real machines report", () => {
    const ok = { hostname: "ip-10-0-0-1.eu-west-1.compute.internal", platform: "linux", arch: "arm64" };
    expect("frame" in parseAgentFrame(hello({ ...ok, agent_version: "2.0.0-rc.1+build.7" }))).toBe(true);
    expect(v.safeParse(EnrollRequestSchema, enrol({ ...ok, version: "2.0.0 (test)" })).success).toBe(true);
  });
});
