// The agent's path through the protocol builds each frame's schema when it needs it (issue 25,
// docs/agent-footprint.md); the server keeps the built-once catalog. Both must accept and refuse
// the same frames with the same messages.
import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import {
  AgentFrame,
  encodeAgentFrame,
  type Outgoing,
  PROTOCOL_VERSION,
  parseServerFrame,
  ServerFrame,
} from "../../src/protocol/frames";
import { INVENTORY_SECTIONS, SECTION_DATA, sectionDataSchema } from "../../src/protocol/inventory-sections";
import {
  methodSchemas,
  REACH_METHOD_NAMES,
  REACH_METHODS,
  STREAM_KINDS,
  streamParamsSchema,
} from "../../src/protocol/reach-methods";

/** What parseServerFrame answered before it built schemas per frame: the variant, once. */
function parseWithCatalog(text: string) {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: "frame is not valid JSON" };
  }
  const result = v.safeParse(ServerFrame, json);
  if (result.success) return { frame: result.output };
  const issue = result.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join(".");
  return { error: `invalid frame${path ? ` at ${path}` : ""}: ${issue.message}` };
}

/** The `type` literal of a catalog entry (an object, or an object in a pipe). */
function typeOf(schema: unknown): string {
  type Entries = { type: { literal: string } };
  const s = schema as { entries?: Entries; pipe?: [{ entries: Entries }] };
  return (s.entries ?? (s.pipe as [{ entries: Entries }])[0].entries).type.literal;
}
const SERVER_TYPES = ServerFrame.options.map(typeOf);
const AGENT_TYPES = AgentFrame.options.map(typeOf);

const frameLike = fc.record(
  {
    v: fc.oneof(fc.constant(1), fc.integer(), fc.constant(null)),
    type: fc.oneof(fc.constantFrom(...SERVER_TYPES, ...AGENT_TYPES), fc.string(), fc.constant("constructor")),
    id: fc.oneof(fc.string(), fc.integer()),
    sent_at: fc.oneof(fc.nat(), fc.integer(), fc.string()),
    execution_id: fc.oneof(fc.uuid(), fc.string()),
    command: fc.string(),
    timeout_ms: fc.oneof(fc.nat(), fc.constant(null)),
    node_id: fc.string(),
    cluster_name: fc.string(),
    heartbeat_interval_seconds: fc.nat(),
    interval_seconds: fc.oneof(fc.integer({ min: 0, max: 70 }), fc.constant(null)),
    api_token: fc.string(),
    section: fc.constantFrom("system", "software", "nope"),
    content_hash: fc.constantFrom("a".repeat(64), "x"),
    method: fc.constantFrom(...REACH_METHOD_NAMES, "nope"),
    params: fc.object(),
    deadline_ms: fc.nat(),
  },
  { requiredKeys: [] },
);

describe("schemas built per use (the agent) against the built-once catalog (the server)", () => {
  it("parseServerFrame answers exactly what the ServerFrame variant answers", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          frameLike.map((f) => JSON.stringify(f)),
          fc.string(),
          fc.json(),
        ),
        (text) => {
          expect(parseServerFrame(text)).toEqual(parseWithCatalog(text));
        },
      ),
      { seed: 20261206, numRuns: 2000 },
    );
  });

  it("encodeAgentFrame accepts and refuses what the AgentFrame variant does", () => {
    const frames = [
      { type: "ping", id: "p1", sent_at: 1 },
      { type: "pong", id: "", sent_at: 1 },
      { type: "ack", execution_id: "0b0f6a52-6d7a-4d5e-9b1c-2f1e0d9c8b7a" },
      {
        type: "inventory",
        section: "system",
        status: "unavailable",
        reason: "x",
        content_hash: "a".repeat(64),
        collected_at: 1,
        data: null,
      },
      {
        type: "inventory",
        section: "system",
        status: "ok",
        content_hash: "a".repeat(64),
        collected_at: 1,
        data: { hostname: 5 },
      },
      { type: "nope" },
    ] as unknown as Outgoing<AgentFrame>[];
    for (const frame of frames) {
      const catalog = v.safeParse(AgentFrame, { v: PROTOCOL_VERSION, ...frame });
      let lazy: string | Error;
      try {
        lazy = encodeAgentFrame(frame);
      } catch (error) {
        lazy = error as Error;
      }
      if (catalog.success) expect(lazy).toBe(JSON.stringify(catalog.output));
      else expect((lazy as Error).message).toBe(catalog.issues[0].message);
    }
  });

  it("per-use section, method and stream schemas have the same shape as the built-once ones", () => {
    for (const section of INVENTORY_SECTIONS) {
      expect(sectionDataSchema(section)).not.toBe(SECTION_DATA[section]);
      expect(
        Object.keys((sectionDataSchema(section) as v.LooseObjectSchema<v.ObjectEntries, undefined>).entries),
      ).toEqual(
        Object.keys((SECTION_DATA[section] as v.LooseObjectSchema<v.ObjectEntries, undefined>).entries),
      );
    }
    for (const method of REACH_METHOD_NAMES) {
      expect(Object.keys(methodSchemas(method).params.entries)).toEqual(
        Object.keys(REACH_METHODS[method].params.entries),
      );
    }
    expect(Object.keys(streamParamsSchema("logs.tail").entries)).toEqual(
      Object.keys(STREAM_KINDS["logs.tail"].entries),
    );
    expect(REACH_METHOD_NAMES).toEqual(Object.keys(REACH_METHODS));
  });
});
