import { access, readdir } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { readLine, readText } from "../budget";
import { parseDefaultRoute } from "../parse/proc-net";

async function isVirtual(name: string): Promise<boolean> {
  try {
    await access(`/sys/devices/virtual/net/${name}`);
    return true;
  } catch {
    return false;
  }
}

// sysfs `speed` is -1 or EINVAL for virtual and down links: unknown, not negative.
async function speedMbps(name: string): Promise<number | null> {
  const raw = await readLine(`/sys/class/net/${name}/speed`);
  const n = raw === null ? Number.NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : null;
}

function resolvConf(text: string | null) {
  const dns: string[] = [];
  const search: string[] = [];
  for (const line of (text ?? "").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[0] === "nameserver" && f[1]) dns.push(f[1]);
    if ((f[0] === "search" || f[0] === "domain") && f.length > 1) search.push(...f.slice(1));
  }
  return { dns_servers: dns, search_domains: [...new Set(search)] };
}

/** The default route's interface and gateway, and the interface's first IPv4 address (the host's LAN address). */
export async function primaryRoute(): Promise<{
  iface: string;
  gateway: string;
  address: string | null;
} | null> {
  const route = parseDefaultRoute((await readText("/proc/net/route")) ?? "");
  if (!route) return null;
  const v4 = (networkInterfaces()[route.iface] ?? []).find((a) => a.family === "IPv4");
  return { ...route, address: v4?.address ?? null };
}

/** `network`: interfaces with addresses, MAC, state, MTU, speed; default route; DNS. */
export async function collectNetwork() {
  const addresses = networkInterfaces();
  let names: string[];
  try {
    names = await readdir("/sys/class/net");
  } catch {
    names = Object.keys(addresses);
  }
  const interfaces = [];
  for (const name of [...new Set(names)].sort()) {
    const list = addresses[name] ?? [];
    const mac = (await readLine(`/sys/class/net/${name}/address`)) ?? list[0]?.mac ?? null;
    const mtu = Number(await readLine(`/sys/class/net/${name}/mtu`));
    interfaces.push({
      name,
      mac_address: mac,
      state: await readLine(`/sys/class/net/${name}/operstate`),
      mtu: Number.isInteger(mtu) && mtu > 0 ? mtu : null,
      speed_mbps: await speedMbps(name),
      virtual: await isVirtual(name),
      addresses: list.map((a) => ({
        address: a.address,
        family: a.family === "IPv4" ? ("ipv4" as const) : ("ipv6" as const),
        netmask: a.netmask,
        cidr: a.cidr,
      })),
    });
  }
  const route = await primaryRoute();
  return {
    interfaces,
    default_interface: route?.iface ?? null,
    default_gateway: route?.gateway ?? null,
    primary_ip: route?.address ?? null,
    ...resolvConf(await readText("/etc/resolv.conf")),
  };
}
