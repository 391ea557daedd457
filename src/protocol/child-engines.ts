import type { ChildType } from "./inventory-sections";

/**
 * The CLI each child engine is driven with, and the environment variable that names a stand-in
 * for it (how tests run fake engines). Shared by the agent's `children` collector and the
 * orchestrated reboot's scripts, so both talk to the same program.
 */
export const CHILD_ENGINE_TOOLS: Record<ChildType, { env: string; tool: string }> = {
  lxd: { env: "OUTPOST_LXC", tool: "lxc" },
  incus: { env: "OUTPOST_INCUS", tool: "incus" },
  docker: { env: "OUTPOST_DOCKER", tool: "docker" },
  podman: { env: "OUTPOST_PODMAN", tool: "podman" },
  libvirt: { env: "OUTPOST_VIRSH", tool: "virsh" },
  nspawn: { env: "OUTPOST_MACHINECTL", tool: "machinectl" },
};
