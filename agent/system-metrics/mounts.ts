import { statfs } from "node:fs/promises";
import { type MountsSection, SYSTEM_LIMITS } from "../../src/protocol/system-metrics";
import { BudgetExceeded, readText, withBudget } from "../inventory/budget";
import { parseMountinfo } from "../inventory/parse/mounts";
import { percent } from "./rates";

/** How long one mount may take to answer statfs (a hung NFS server must not stall the heartbeat). */
const STATFS_BUDGET_MS = 1000;

/** What statfs says about one filesystem (the fields the section needs). */
export interface FsStats {
  blocks: number;
  bfree: number;
  bavail: number;
  bsize: number;
  files: number;
  ffree: number;
}

/** One mount's sizes; usage is df's Use%: used / (used + available to unprivileged users). */
export function mountUsage(stats: FsStats) {
  const total = stats.blocks * stats.bsize;
  const free = stats.bavail * stats.bsize;
  const used = (stats.blocks - stats.bfree) * stats.bsize;
  return {
    total_bytes: total,
    used_bytes: used,
    free_bytes: free,
    usage_percent: percent(used, used + free),
    inodes_total: stats.files,
    inodes_used: Math.max(0, stats.files - stats.ffree),
  };
}

/**
 * Every real mount (pseudo filesystems and bind-mount repeats left out, see parseMountinfo) with
 * sizes and inodes. A mount whose statfs hung is skipped from then on: asking again would block
 * another libuv thread each heartbeat.
 */
export class MountsCollector {
  readonly #hung = new Set<string>();

  constructor(
    private readonly root = "",
    private readonly stat: (path: string) => Promise<FsStats> = statfs,
  ) {}

  async collect(): Promise<MountsSection> {
    const text = await readText(`${this.root}/proc/self/mountinfo`);
    if (text === null) return { available: false, reason: "/proc/self/mountinfo is not readable" };
    const mounts = parseMountinfo(text)
      .filter((m) => !this.#hung.has(m.mount_point))
      .slice(0, SYSTEM_LIMITS.mounts);
    const sized = await Promise.all(
      mounts.map(async (m) => {
        try {
          const stats = await withBudget(
            this.stat(m.mount_point),
            STATFS_BUDGET_MS,
            `statfs ${m.mount_point}`,
          );
          if (stats.blocks === 0) return null; // nothing to size (an empty autofs trigger, a FUSE stub)
          return {
            device: m.device,
            mount_point: m.mount_point,
            filesystem: m.filesystem,
            ...mountUsage(stats),
          };
        } catch (error) {
          if (error instanceof BudgetExceeded) this.#hung.add(m.mount_point);
          return null;
        }
      }),
    );
    return { available: true, mounts: sized.filter((m) => m !== null) };
  }
}
