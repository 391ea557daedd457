import { readdir } from "node:fs/promises";
import { SYSTEM_LIMITS, type TemperaturesSection } from "../../src/protocol/system-metrics";
import { compareNatural } from "../compare";
import { readLine } from "../inventory/budget";
import { round } from "./rates";

/** One sensor as sysfs spells it: millidegrees Celsius as text, null when the file is missing. */
export interface RawSensor {
  name: string;
  input: string | null;
  max: string | null;
  crit: string | null;
}

function celsius(milli: string | null): number | null {
  if (milli === null) return null;
  const value = Number(milli);
  return Number.isFinite(value) ? round(value / 1000, 1) : null;
}

/** Raw sysfs readings → sensors in °C; unreadable or absurd readings (a disconnected probe) are dropped. */
export function toSensors(raw: RawSensor[]) {
  const out = [];
  for (const r of raw) {
    const c = celsius(r.input);
    if (c === null || c <= -60 || c >= 200) continue;
    out.push({ name: r.name, celsius: c, high_celsius: celsius(r.max), critical_celsius: celsius(r.crit) });
  }
  return out.slice(0, SYSTEM_LIMITS.sensors);
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort(compareNatural);
  } catch {
    return [];
  }
}

/** hwmon chips: `temp*_input` with their label, max and crit (`<chip>/<label or tempN>`). */
async function hwmon(root: string): Promise<RawSensor[]> {
  const out: RawSensor[] = [];
  for (const chip of await entries(`${root}/sys/class/hwmon`)) {
    const dir = `${root}/sys/class/hwmon/${chip}`;
    const chipName = (await readLine(`${dir}/name`)) ?? chip;
    for (const file of await entries(dir)) {
      const m = /^(temp\d+)_input$/.exec(file);
      if (!m) continue;
      const label = (await readLine(`${dir}/${m[1]}_label`)) ?? m[1];
      out.push({
        name: `${chipName}/${label}`,
        input: await readLine(`${dir}/${file}`),
        max: await readLine(`${dir}/${m[1]}_max`),
        crit: await readLine(`${dir}/${m[1]}_crit`),
      });
    }
  }
  return out;
}

/** Thermal zones, when there is no hwmon (many ARM boards). */
async function thermal(root: string): Promise<RawSensor[]> {
  const out: RawSensor[] = [];
  for (const zone of await entries(`${root}/sys/class/thermal`)) {
    if (!zone.startsWith("thermal_zone")) continue;
    const dir = `${root}/sys/class/thermal/${zone}`;
    out.push({
      name: `${(await readLine(`${dir}/type`)) ?? "thermal"}/${zone}`,
      input: await readLine(`${dir}/temp`),
      max: null,
      crit: null,
    });
  }
  return out;
}

/** Temperatures from hwmon, else from thermal zones; unavailable on hosts without sensors (most VMs). */
export async function collectTemperatures(root = ""): Promise<TemperaturesSection> {
  let sensors = toSensors(await hwmon(root));
  if (sensors.length === 0) sensors = toSensors(await thermal(root));
  if (sensors.length === 0) return { available: false, reason: "no temperature sensors (hwmon, thermal)" };
  return { available: true, sensors };
}
