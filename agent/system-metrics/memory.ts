import type { MemoryDetailSection } from "../../src/protocol/system-metrics";
import { readText } from "../inventory/budget";

/** /proc/meminfo → values in bytes, by key (`MemTotal`, `SwapFree`…). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?$/gm)) {
    out.set(m[1], Number(m[2]) * (m[0].endsWith("kB") ? 1024 : 1));
  }
  return out;
}

/** Swap, buffers and page cache from /proc/meminfo (SReclaimable counts as cache, as `free` does). */
export function memoryDetail(meminfo: Map<string, number>): MemoryDetailSection {
  const swapTotal = meminfo.get("SwapTotal");
  if (swapTotal === undefined) return { available: false, reason: "/proc/meminfo has no SwapTotal" };
  const swapFree = Math.min(meminfo.get("SwapFree") ?? 0, swapTotal);
  return {
    available: true,
    buffers_bytes: meminfo.get("Buffers") ?? 0,
    cached_bytes: (meminfo.get("Cached") ?? 0) + (meminfo.get("SReclaimable") ?? 0),
    swap_total_bytes: swapTotal,
    swap_used_bytes: swapTotal - swapFree,
    swap_free_bytes: swapFree,
  };
}

/** The memory section: swap and caches. */
export async function collectMemory(root = ""): Promise<MemoryDetailSection> {
  const text = await readText(`${root}/proc/meminfo`);
  if (text === null) return { available: false, reason: "/proc/meminfo is not readable" };
  return memoryDetail(parseMeminfo(text));
}
