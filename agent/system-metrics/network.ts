import { type NetworkSection, SYSTEM_LIMITS } from "../../src/protocol/system-metrics";
import { readText } from "../inventory/budget";
import type { CounterRates } from "./rates";

/** Received and sent bytes of one interface, from /proc/net/dev. */
export interface InterfaceCounters {
  name: string;
  rx_bytes: number;
  tx_bytes: number;
}

// Loopback is local traffic; a veth is one end of a container's link, already counted on the bridge.
const SKIPPED = /^(lo|veth[0-9a-f]+)$/;

/** /proc/net/dev → bytes per interface (loopback and container veths left out). */
export function parseNetDev(text: string): InterfaceCounters[] {
  const out: InterfaceCounters[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || SKIPPED.test(m[1])) continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    if (f.length < 9) continue;
    out.push({ name: m[1], rx_bytes: f[0], tx_bytes: f[8] });
  }
  return out;
}

/** Byte counters and rates per interface; the first sample of an interface reports a 0 rate. */
export async function collectNetwork(rates: CounterRates, at: number, root = ""): Promise<NetworkSection> {
  const text = await readText(`${root}/proc/net/dev`);
  if (text === null) return { available: false, reason: "/proc/net/dev is not readable" };
  const ifaces = parseNetDev(text).slice(0, SYSTEM_LIMITS.interfaces);
  rates.retain(new Set(ifaces.map((i) => `net:${i.name}`)));
  return {
    available: true,
    interfaces: ifaces.map((i) => {
      const r = rates.update(`net:${i.name}`, [i.rx_bytes, i.tx_bytes], at) ?? [0, 0];
      return { ...i, rx_bytes_per_second: r[0], tx_bytes_per_second: r[1] };
    }),
  };
}
