// Hrana JSON values <-> what the `libsql` engine binds and returns.
// Integers travel as decimal strings and come back from the engine as
// bigint (statements run with safeIntegers), floats as JSON numbers, blobs
// as base64.

import { protocolError } from "./errors.mjs";

const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;

/**
 * Decodes a Hrana `Value` into something the engine binds: null, bigint
 * (INTEGER), number (REAL), string (TEXT) or Uint8Array (BLOB).
 * @param {unknown} value
 * @returns {null | bigint | number | string | Uint8Array}
 */
export function decodeValue(value) {
  if (value === null || typeof value !== "object") throw protocolError("A value must be an object");
  const v = /** @type {Record<string, unknown>} */ (value);
  switch (v.type) {
    case "null":
      return null;
    case "integer": {
      const raw = v.value;
      if (typeof raw !== "string" && typeof raw !== "number") throw protocolError("Invalid integer value");
      let n;
      try {
        n = BigInt(raw);
      } catch {
        throw protocolError(`Invalid integer value: ${JSON.stringify(raw)}`);
      }
      if (n < MIN_I64 || n > MAX_I64) throw protocolError("Integer value out of the 64-bit range");
      return n;
    }
    case "float": {
      if (typeof v.value !== "number") throw protocolError("Invalid float value");
      return v.value;
    }
    case "text": {
      if (typeof v.value !== "string") throw protocolError("Invalid text value");
      return v.value;
    }
    case "blob": {
      if (typeof v.base64 !== "string") throw protocolError("Invalid blob value");
      const bytes = Buffer.from(v.base64, "base64");
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    default:
      throw protocolError(`Unknown value type: ${JSON.stringify(v.type)}`);
  }
}

/**
 * Encodes a value returned by the engine as a Hrana `Value`.
 * @param {unknown} value
 */
export function encodeValue(value) {
  if (value === null || value === undefined) return { type: "null" };
  if (typeof value === "bigint") return { type: "integer", value: value.toString() };
  if (typeof value === "number") {
    // JSON cannot carry Infinity; SQLite never yields NaN.
    if (!Number.isFinite(value)) return { type: "null" };
    return { type: "float", value };
  }
  if (typeof value === "string") return { type: "text", value };
  if (value instanceof ArrayBuffer) return { type: "blob", base64: Buffer.from(value).toString("base64") };
  if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return { type: "blob", base64: bytes.toString("base64") };
  }
  return { type: "text", value: String(value) };
}
