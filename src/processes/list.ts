import type { MemoryListSpec } from "../list-query/memory";
import type { ProcessResponse } from "./schema";

/** Filters (`*` wildcards) and sort keys of `GET /nodes/{node_id}/processes`, applied in memory. */
export const processListSpec: MemoryListSpec<ProcessResponse> = {
  filters: { name: (p) => p.name, user: (p) => p.user, state: (p) => p.state },
  sortable: {
    cpu_percent: (p) => p.cpu_percent,
    memory_bytes: (p) => p.memory_bytes,
    pid: (p) => p.pid,
    start_time: (p) => Date.parse(p.start_time),
  },
  defaultOrder: { field: "pid", direction: "asc" },
  tieBreaker: (p) => p.pid,
};
