import { CHILD_ENGINE_TOOLS } from "../../../src/protocol/child-engines";
import type { Child, ChildType } from "../../../src/protocol/inventory-sections";
import { compareText } from "../../compare";
import { runCommand } from "../budget";
import {
  parseDockerPs,
  parseLxdList,
  parseMachinectl,
  parsePodmanPs,
  parseVirshList,
} from "../parse/children";

const TIMEOUT_MS = 10_000;

function tool(type: ChildType): string {
  const { env, tool } = CHILD_ENGINE_TOOLS[type];
  return process.env[env] || tool;
}

/** One engine's listing; null when its CLI is missing or fails (the engine is not on this host). */
async function list(type: ChildType, args: string[]): Promise<string | null> {
  const out = await runCommand(tool(type), args, { timeoutMs: TIMEOUT_MS });
  return out?.code === 0 ? out.stdout : null;
}

const ENGINES: Record<ChildType, () => Promise<Child[] | null>> = {
  lxd: async () => {
    const out = await list("lxd", ["list", "--format", "json"]);
    return out === null ? null : parseLxdList("lxd", out);
  },
  incus: async () => {
    const out = await list("incus", ["list", "--format", "json"]);
    return out === null ? null : parseLxdList("incus", out);
  },
  docker: async () => {
    const out = await list("docker", ["ps", "-a", "--format", "{{.Names}}\t{{.State}}"]);
    return out === null ? null : parseDockerPs("docker", out);
  },
  podman: async () => {
    const out = await list("podman", ["ps", "-a", "--format", "json"]);
    return out === null ? null : parsePodmanPs(out);
  },
  libvirt: async () => {
    const out = await list("libvirt", ["list", "--all"]);
    return out === null ? null : parseVirshList(out);
  },
  nspawn: async () => {
    const images = await list("nspawn", ["list-images", "--no-legend"]);
    if (images === null) return null;
    return parseMachinectl(images, (await list("nspawn", ["list", "--no-legend"])) ?? "");
  },
};

/**
 * `children`: the containers and VMs of every engine on the host (LXD, Incus, Docker, Podman,
 * libvirt, systemd-nspawn), each through its CLI (`OUTPOST_LXC`… name stand-ins). A host without
 * any engine reports an empty list, not an unavailable section: "no children" is an answer.
 */
export async function collectChildren() {
  const types = Object.keys(ENGINES) as ChildType[];
  const results = await Promise.all(types.map((t) => ENGINES[t]().catch(() => null)));
  const engines = types.filter((_, i) => results[i] !== null);
  const children = results.flatMap((r) => r ?? []).filter((c) => c.child_name !== "");
  children.sort((a, b) => compareText(a.id, b.id));
  return { children, engines };
}
