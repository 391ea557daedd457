// The footprint benchmark's look inside a running agent (issue 25): a module preloaded into a
// diagnostic copy of the agent that reports its memory, heap spaces and built-in modules and writes
// a heap snapshot when asked, and the grouping of that snapshot by what holds the bytes.

// Loaded with --import into the diagnostic copy only: every 5 s a line with process.memoryUsage(),
// V8's heap spaces and the public built-in modules loaded so far; a heap snapshot when asked.
export const AGENT_DIAG_PRELOAD = `
import v8 from "node:v8";
import { existsSync } from "node:fs";
const dir = process.env.FOOTPRINT_DIAG_DIR;
let snapped = false;
setInterval(() => {
  const builtins = process.moduleLoadList
    .filter((m) => m.startsWith("NativeModule ") && !m.includes("internal/"))
    .map((m) => m.slice(13));
  const spaces = Object.fromEntries(
    v8.getHeapSpaceStatistics().map((s) => [s.space_name, [s.space_size, s.space_used_size]]),
  );
  process.stderr.write("footprint-diag " + JSON.stringify({ memory: process.memoryUsage(), spaces, builtins }) + "\\n");
  if (!snapped && existsSync(dir + "/snapshot-now")) {
    snapped = true;
    v8.writeHeapSnapshot(dir + "/agent.heapsnapshot");
    process.stderr.write("footprint-diag snapshot written\\n");
  }
}, 5000).unref();
`;

/** Self size by constructor/type of a heap snapshot, largest first. */
export function heapSnapshotGroups(text: string, top = 12): { what: string; count: number; bytes: number }[] {
  const snap = JSON.parse(text);
  const fields: string[] = snap.snapshot.meta.node_fields;
  const types: string[] = snap.snapshot.meta.node_types[0];
  const [t, n, s] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
  const groups = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + t]];
    const name = snap.strings[snap.nodes[i + n]] as string;
    const what =
      type === "object" || type === "native"
        ? `${type} ${name.slice(0, 40)}`
        : type === "closure"
          ? "closures"
          : type;
    const g = groups.get(what) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += snap.nodes[i + s];
    total += snap.nodes[i + s];
    groups.set(what, g);
  }
  return [
    { what: "total", count: snap.nodes.length / fields.length, bytes: total },
    ...[...groups.entries()]
      .map(([what, g]) => ({ what, ...g }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, top),
  ];
}
