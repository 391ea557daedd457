import { compareText } from "../../compare";

/** One systemd service as `systemctl list-units` and `list-unit-files` describe it. */
export interface ServiceUnit {
  name: string;
  load: string | null;
  active: string | null;
  sub: string | null;
  enabled: string | null;
  description: string | null;
}

/**
 * `systemctl list-units --type=service --all --no-legend --plain --no-pager` (UNIT LOAD ACTIVE SUB
 * DESCRIPTION…) joined with `systemctl list-unit-files --type=service --no-legend --no-pager`
 * (UNIT STATE [PRESET]) for the enablement.
 */
export function parseSystemctl(units: string, unitFiles: string): ServiceUnit[] {
  const enabled = new Map<string, string>();
  for (const line of unitFiles.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 2 && f[0].endsWith(".service")) enabled.set(f[0], f[1]);
  }
  const out = new Map<string, ServiceUnit>();
  for (const line of units.split("\n")) {
    // A failed unit is prefixed with "●" unless --plain took it away.
    const f = line
      .replace(/^[\u25cf*]\s*/, "")
      .trim()
      .split(/\s+/);
    if (f.length < 4 || !f[0].endsWith(".service")) continue;
    out.set(f[0], {
      name: f[0],
      load: f[1],
      active: f[2],
      sub: f[3],
      enabled: enabled.get(f[0]) ?? null,
      description: f.slice(4).join(" ") || null,
    });
  }
  // Unit files that are not loaded (disabled, never started) are services too.
  for (const [name, state] of enabled) {
    if (!out.has(name) && !name.includes("@.")) {
      out.set(name, { name, load: null, active: "inactive", sub: "dead", enabled: state, description: null });
    }
  }
  return [...out.values()].sort((a, b) => compareText(a.name, b.name));
}
