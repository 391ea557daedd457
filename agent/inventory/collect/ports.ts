import { readdir, readlink } from "node:fs/promises";
import { compareText } from "../../compare";
import { readText } from "../budget";
import { parsePasswd } from "../parse/accounts";
import { type ListeningSocket, parseListeningSockets } from "../parse/proc-net";

const PROTOCOLS = ["tcp", "tcp6", "udp", "udp6"] as const;

// socket inode → pid, by reading every process's fd links (needs root for other users' processes).
async function socketOwners(wanted: Set<number>): Promise<Map<number, number>> {
  const owners = new Map<number, number>();
  let pids: string[];
  try {
    pids = (await readdir("/proc")).filter((d) => /^\d+$/.test(d));
  } catch {
    return owners;
  }
  for (const pid of pids) {
    if (owners.size === wanted.size) break;
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`));
        if (match && wanted.has(Number(match[1]))) owners.set(Number(match[1]), Number(pid));
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  return owners;
}

/** `listening_ports`: TCP listeners and bound UDP sockets with their process where it can be seen. */
export async function collectListeningPorts() {
  const sockets: (ListeningSocket & { protocol: (typeof PROTOCOLS)[number] })[] = [];
  for (const protocol of PROTOCOLS) {
    const text = await readText(`/proc/net/${protocol}`);
    if (text) for (const s of parseListeningSockets(text, protocol)) sockets.push({ ...s, protocol });
  }
  const owners = await socketOwners(new Set(sockets.map((s) => s.inode)));
  const users = new Map(parsePasswd((await readText("/etc/passwd")) ?? "").map((u) => [u.uid, u.username]));
  const names = new Map<number, string | null>();
  const processName = async (pid: number) => {
    if (!names.has(pid)) names.set(pid, (await readText(`/proc/${pid}/comm`))?.trim() ?? null);
    return names.get(pid) ?? null;
  };
  const ports = [];
  const seen = new Set<string>();
  for (const s of sockets) {
    const key = `${s.protocol} ${s.address} ${s.port}`;
    // SO_REUSEPORT listeners repeat the same address and port; one row each.
    if (seen.has(key)) continue;
    seen.add(key);
    const pid = owners.get(s.inode) ?? null;
    ports.push({
      protocol: s.protocol,
      address: s.address,
      port: s.port,
      pid,
      process: pid === null ? null : await processName(pid),
      user: users.get(s.uid) ?? String(s.uid),
    });
  }
  ports.sort(
    (a, b) => a.port - b.port || compareText(a.protocol, b.protocol) || compareText(a.address, b.address),
  );
  return { ports, processes_resolved: process.getuid?.() === 0 };
}
