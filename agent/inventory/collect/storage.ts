import { statfs } from "node:fs/promises";
import { compareText } from "../../compare";
import { readText, Unavailable, withBudget } from "../budget";
import { type Mount, parseMountinfo } from "../parse/mounts";

/** How long one mount may take to answer statfs. */
const STATFS_BUDGET_MS = 2000;

// A mount whose statfs hung keeps a libuv thread blocked; asking it again every interval would
// use them all up. Remembered for the life of the process.
const hung = new Set<string>();

async function sized(mount: Mount) {
  const base = {
    device: mount.device,
    mount_point: mount.mount_point,
    filesystem: mount.filesystem,
    read_only: mount.read_only,
  };
  const none = (why: string) => ({
    ...base,
    total_bytes: null,
    used_bytes: null,
    free_bytes: null,
    usage_percent: null,
    inodes_total: null,
    inodes_used: null,
    size_unavailable: why,
  });
  if (hung.has(mount.mount_point)) return none("statfs did not answer earlier; not asked again");
  try {
    const s = await withBudget(statfs(mount.mount_point), STATFS_BUDGET_MS, `statfs ${mount.mount_point}`);
    const total = s.blocks * s.bsize;
    const free = s.bavail * s.bsize;
    const used = (s.blocks - s.bfree) * s.bsize;
    // df's Use%: used / (used + available), so root's reserved blocks don't hide a full disk.
    const usable = used + free;
    return {
      ...base,
      total_bytes: total,
      used_bytes: used,
      free_bytes: free,
      usage_percent: usable > 0 ? Math.round((used / usable) * 1000) / 10 : 0,
      inodes_total: s.files,
      inodes_used: s.files - s.ffree,
    };
  } catch (error) {
    if ((error as Error).name === "BudgetExceeded" || (error as Error).message.includes("took longer")) {
      hung.add(mount.mount_point);
      return none(`statfs took longer than ${STATFS_BUDGET_MS} ms`);
    }
    return none((error as NodeJS.ErrnoException).code ?? "statfs failed");
  }
}

/** `storage`: mounted filesystems with sizes and inodes (statfs per mount, each with a deadline). */
export async function collectStorage() {
  const text = await readText("/proc/self/mountinfo");
  if (text === null) throw new Unavailable("/proc/self/mountinfo is not readable");
  const mounts = parseMountinfo(text);
  const filesystems = await Promise.all(mounts.map(sized));
  filesystems.sort((a, b) => compareText(a.mount_point, b.mount_point));
  return { filesystems };
}
