import { type ServicesSection, SYSTEM_LIMITS } from "../../src/protocol/system-metrics";
import { runCommand, Unavailable } from "../inventory/budget";
import { parseSystemctl, type ServiceUnit } from "../inventory/parse/services";

/**
 * Counts of all services and, bounded, the ones worth seeing: failed first, then running. Inactive
 * ones are counted, not listed (a host has hundreds; the frame stays small).
 */
export function servicesSection(units: ServiceUnit[]): Extract<ServicesSection, { available: true }> {
  const loaded = units.filter((u) => u.load !== null);
  const failed = loaded.filter((u) => u.active === "failed");
  const active = loaded.filter((u) => u.active === "active");
  return {
    available: true,
    total: loaded.length,
    active: active.length,
    failed: failed.length,
    services: [...failed, ...active].slice(0, SYSTEM_LIMITS.services).map((u) => ({
      name: u.name.slice(0, 255),
      state: (u.active ?? "unknown").slice(0, 32),
      sub_state: (u.sub ?? "unknown").slice(0, 32),
    })),
  };
}

/** systemd service states from `systemctl list-units`. */
export async function collectServices(): Promise<ServicesSection> {
  const out = await runCommand(
    "systemctl",
    ["list-units", "--type=service", "--all", "--no-legend", "--plain", "--no-pager"],
    { timeoutMs: 5_000, maxBytes: 2 * 1024 * 1024 },
  );
  if (out?.code !== 0) throw new Unavailable("systemd is not running on this host");
  return servicesSection(parseSystemctl(out.stdout, ""));
}
