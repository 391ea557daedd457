/** What /proc/cpuinfo tells about the processor. */
export interface CpuInfo {
  model: string | null;
  vendor: string | null;
  sockets: number | null;
  cores: number | null;
  threads: number;
  mhz: number | null;
  /** The `hypervisor` flag: running in a virtual machine. */
  hypervisor: boolean;
}

/** /proc/cpuinfo → model, vendor, sockets (distinct physical ids), cores (distinct physical/core id pairs), threads. */
export function parseCpuinfo(text: string): CpuInfo {
  let threads = 0;
  let model: string | null = null;
  let vendor: string | null = null;
  let mhz: number | null = null;
  let hypervisor = false;
  const sockets = new Set<string>();
  const cores = new Set<string>();
  let physical = "";
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === "processor") threads++;
    // x86 says "model name"; arm64 kernels have no model name but may have "Hardware" or "CPU part".
    else if ((key === "model name" || key === "Hardware" || key === "Model") && !model) model = value;
    else if (key === "vendor_id" && !vendor) vendor = value;
    else if (key === "cpu MHz" && mhz === null) mhz = Number(value) || null;
    else if (key === "physical id") {
      physical = value;
      sockets.add(value);
    } else if (key === "core id") cores.add(`${physical}:${value}`);
    else if (key === "flags" && /\bhypervisor\b/.test(value)) hypervisor = true;
  }
  return {
    model,
    vendor,
    sockets: sockets.size > 0 ? sockets.size : null,
    cores: cores.size > 0 ? cores.size : null,
    threads,
    mhz,
    hypervisor,
  };
}

/** A value of /proc/meminfo in bytes (its kB are KiB), or 0. */
export function meminfoBytes(text: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, "m").exec(text);
  return match ? Number(match[1]) * 1024 : 0;
}

/** `btime` of /proc/stat (boot time, epoch seconds) as ISO, or null. */
export function parseBootTime(stat: string): string | null {
  const match = /^btime\s+(\d+)/m.exec(stat);
  return match ? new Date(Number(match[1]) * 1000).toISOString() : null;
}
