import type { Child, ChildType } from "../../../src/protocol/inventory-sections";

// Each engine's listing, as its CLI prints it, turned into child hosts (C10). Pure: the unit tests
// feed them captured output.

type Status = Child["status"];

function child(type: ChildType, name: string, status: Status, autostart: boolean | null): Child {
  return { id: `${type}:${name}`, child_name: name, child_type: type, status, autostart };
}

function normalStatus(raw: string | undefined | null): Status {
  const s = (raw ?? "").toLowerCase();
  if (s === "running" || s === "up" || s.startsWith("up ")) return "running";
  if (s === "paused" || s === "frozen" || s === "suspended") return "paused";
  if (["stopped", "exited", "created", "shut off", "dead", "shutoff", "configured"].includes(s))
    return "stopped";
  return "unknown";
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** `lxc list --format json` / `incus list --format json`: instances with status and boot.autostart. */
export function parseLxdList(type: "lxd" | "incus", text: string): Child[] {
  const list = parseJson(text);
  if (!Array.isArray(list)) return [];
  return list.flatMap((i: { name?: unknown; status?: unknown; config?: Record<string, unknown> }) => {
    if (typeof i?.name !== "string") return [];
    const auto = i.config?.["boot.autostart"];
    return [
      child(type, i.name, normalStatus(String(i.status ?? "")), auto === undefined ? null : auto === "true"),
    ];
  });
}

/** `docker ps -a --format '{{.Names}}\t{{.State}}'` (one line per container). */
export function parseDockerPs(type: "docker", text: string): Child[] {
  return text
    .split("\n")
    .map((l) => l.split("\t"))
    .filter((f) => f.length >= 2 && f[0])
    .map(([names, state]) => child(type, (names ?? "").split(",")[0] ?? "", normalStatus(state), null));
}

/** `podman ps -a --format json`: `[{Names: [..], State}]`. */
export function parsePodmanPs(text: string): Child[] {
  const list = parseJson(text);
  if (!Array.isArray(list)) return [];
  return list.flatMap((c: { Names?: unknown; State?: unknown }) => {
    const name = Array.isArray(c?.Names) ? c.Names[0] : c?.Names;
    return typeof name === "string" ? [child("podman", name, normalStatus(String(c.State ?? "")), null)] : [];
  });
}

/** `virsh list --all` (` Id   Name   State` then a dashed rule, one domain a line; states may hold spaces). */
export function parseVirshList(text: string): Child[] {
  const out: Child[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+|-)\s+(\S+)\s+(.+?)\s*$/.exec(line);
    if (!m || m[2] === "Name") continue;
    out.push(child("libvirt", m[2] ?? "", normalStatus(m[3]), null));
  }
  return out;
}

/**
 * `machinectl list-images --no-legend` (every container image: NAME TYPE …) and `machinectl list
 * --no-legend` (the running machines: MACHINE CLASS …).
 */
export function parseMachinectl(images: string, running: string): Child[] {
  const up = new Set(
    running
      .split("\n")
      .map((l) => l.trim().split(/\s+/)[0])
      .filter(Boolean),
  );
  const names = new Set<string>(up);
  for (const line of images.split("\n")) {
    const name = line.trim().split(/\s+/)[0];
    if (name && name !== ".host") names.add(name);
  }
  return [...names].map((n) => child("nspawn", n, up.has(n) ? "running" : "stopped", null));
}
