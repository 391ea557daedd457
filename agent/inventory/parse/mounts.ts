/** One mount of /proc/self/mountinfo that holds files (pseudo filesystems left out). */
export interface Mount {
  device: string;
  mount_point: string;
  filesystem: string;
  read_only: boolean;
  /** major:minor, to drop bind mounts of the same filesystem. */
  dev: string;
  root: string;
}

// Kernel and container plumbing, not storage anyone sizes.
const PSEUDO = new Set([
  "proc",
  "sysfs",
  "devtmpfs",
  "devpts",
  "tmpfs",
  "securityfs",
  "pstore",
  "efivarfs",
  "bpf",
  "cgroup",
  "cgroup2",
  "debugfs",
  "tracefs",
  "configfs",
  "fusectl",
  "mqueue",
  "hugetlbfs",
  "autofs",
  "binfmt_misc",
  "rpc_pipefs",
  "nsfs",
  "overlay",
  "squashfs",
  "ramfs",
  "selinuxfs",
  "fuse.gvfsd-fuse",
  "fuse.portal",
  "nfsd",
  "devfs",
]);

/** Filesystems whose statfs can hang when the server is away. */
export const REMOTE_FILESYSTEMS = new Set([
  "nfs",
  "nfs4",
  "cifs",
  "smb3",
  "smbfs",
  "fuse.sshfs",
  "9p",
  "ceph",
  "glusterfs",
]);

// mountinfo escapes space, tab, newline and backslash as octal.
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/**
 * /proc/self/mountinfo → the mounts worth sizing: pseudo filesystems dropped, and of several mounts
 * of one filesystem (bind mounts) only the first, which is the one mounted from its root.
 */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  const seen = new Set<string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const l = left.split(" ");
    const r = right.split(" ");
    const filesystem = r[0];
    if (PSEUDO.has(filesystem)) continue;
    const dev = l[2];
    const root = unescapeOctal(l[3]);
    const mountPoint = unescapeOctal(l[4]);
    const options = l[5] ?? "";
    // A bind mount repeats the device (with the same or another root): it is the same storage.
    if (seen.has(dev)) continue;
    seen.add(dev);
    out.push({
      device: unescapeOctal(r[1] ?? ""),
      mount_point: mountPoint,
      filesystem,
      read_only: options.split(",").includes("ro"),
      dev,
      root,
    });
  }
  return out;
}
