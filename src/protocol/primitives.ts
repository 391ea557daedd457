import * as v from "valibot";

// The schema pieces every part of the wire protocol is built from. Factories, not constants: the agent
// builds a frame's schema when it checks that frame and lets it go (issue 25's idle memory), so
// nothing here may hold a built schema.

/** The protocol version every frame carries (`v`). */
export const PROTOCOL_VERSION = 1;

/** The `v` entry of every frame. */
export const versionEntries = () => ({ v: v.literal(PROTOCOL_VERSION) });

/** An identifier one side chose (request, stream, command): 1–128 characters. */
export const boundedId = () => v.pipe(v.string(), v.minLength(1), v.maxLength(128));

/** A non-negative integer: counts, sizes, sequence numbers, milliseconds. */
export const count = () => v.pipe(v.number(), v.integer(), v.minValue(0));

/** Any finite number (no NaN or Infinity, which JSON cannot carry anyway). */
export const finiteNumber = () => v.pipe(v.number(), v.finite());

/** A SHA-256 digest as lowercase hex. */
export const sha256Hex = () =>
  v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "must be a lowercase hex SHA-256"));
