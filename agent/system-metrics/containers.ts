import { type ContainersSection, SYSTEM_LIMITS } from "../../src/protocol/system-metrics";
import { collectContainers as inventoryContainers } from "../inventory/collect/containers";

/** Docker containers (running first) with their state, from the Engine API over its socket. */
export async function collectContainers(): Promise<ContainersSection> {
  const { containers } = await inventoryContainers();
  const running = containers.filter((c) => c.state === "running");
  const others = containers.filter((c) => c.state !== "running");
  return {
    available: true,
    total: containers.length,
    running: running.length,
    containers: [...running, ...others].slice(0, SYSTEM_LIMITS.containers).map((c) => ({
      id: c.id.slice(0, 12),
      name: c.name.slice(0, 255),
      image: c.image.slice(0, 255),
      state: (c.state ?? "unknown").slice(0, 32),
    })),
  };
}
