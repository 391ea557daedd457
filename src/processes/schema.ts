import * as v from "valibot";
import { ALLOWED_SIGNALS } from "../protocol/reach-methods";

/** A process on a node, as its agent read it from `/proc` at the time of the request. */
export const ProcessSchema = v.pipe(
  v.object({
    pid: v.pipe(v.number(), v.integer(), v.description("Process ID")),
    ppid: v.pipe(v.number(), v.integer(), v.description("Parent process ID")),
    name: v.pipe(v.string(), v.description("Command name (`comm`)")),
    cmdline: v.pipe(
      v.string(),
      v.description("Command line, arguments joined by spaces (empty for kernel threads)"),
    ),
    user: v.pipe(v.string(), v.description("Owner (user name, or the uid when it has none)")),
    state: v.pipe(v.string(), v.description("State letter from /proc (R, S, D, Z, T, …)")),
    cpu_percent: v.pipe(
      v.number(),
      v.description("CPU use since the previous list (or over its lifetime), percent of one core"),
    ),
    memory_bytes: v.pipe(v.number(), v.integer(), v.description("Resident memory in bytes")),
    threads: v.pipe(v.number(), v.integer(), v.description("Thread count")),
    start_time: v.pipe(
      v.string(),
      v.description("When it started (ISO 8601); send it back with a signal to guard against pid reuse"),
    ),
  }),
  v.title("Process"),
);
export type ProcessResponse = v.InferOutput<typeof ProcessSchema>;

export const SignalBody = v.object({
  signal: v.pipe(
    v.union([v.picklist(ALLOWED_SIGNALS), v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64))]),
    v.description(`A signal name (${ALLOWED_SIGNALS.join(", ")}) or its number on the node's architecture`),
  ),
  start_time: v.optional(
    v.pipe(
      v.string(),
      v.isoTimestamp(),
      v.description("The process's start_time as listed; a different one → 409 (pid reused)"),
    ),
  ),
});

export const SignalResultSchema = v.pipe(
  v.object({
    pid: v.number(),
    signal: v.pipe(v.picklist(ALLOWED_SIGNALS), v.description("Canonical name of the signal sent")),
    delivered: v.boolean(),
  }),
  v.title("ProcessSignalResult"),
);
