import { readlink } from "node:fs/promises";
import { arch, hostname, release } from "node:os";
import { readLine, readText, runCommand } from "../budget";
import { parseBootTime, parseCpuinfo } from "../parse/cpu-memory";
import { parseOsRelease } from "../parse/os-release";

/** The OS as /etc/os-release names it (/usr/lib/os-release is the spec's fallback). */
export async function osRelease() {
  const text = (await readText("/etc/os-release")) ?? (await readText("/usr/lib/os-release")) ?? "";
  return parseOsRelease(text);
}

// systemd-detect-virt knows every hypervisor and container; without it, the CPU's hypervisor flag
// and the DMI vendor tell a VM apart (containers stay unknown).
async function virtualization(): Promise<string | null> {
  const detected = await runCommand("systemd-detect-virt", [], { timeoutMs: 2000 });
  if (detected && detected.stdout.trim() !== "") return detected.stdout.trim();
  const cpuinfo = parseCpuinfo((await readText("/proc/cpuinfo")) ?? "");
  if (!cpuinfo.hypervisor) return null;
  return (await readLine("/sys/class/dmi/id/sys_vendor")) ?? "vm";
}

async function timezone(): Promise<string | null> {
  const named = await readLine("/etc/timezone");
  if (named) return named;
  try {
    const target = await readlink("/etc/localtime");
    const at = target.indexOf("zoneinfo/");
    return at >= 0 ? target.slice(at + "zoneinfo/".length) : null;
  } catch {
    return null;
  }
}

/** `system`: OS, kernel, architecture, machine id, boot time, virtualization, time zone. */
export async function collectSystem() {
  return {
    hostname: hostname(),
    os: await osRelease(),
    kernel: release(),
    arch: arch(),
    machine_id: await readLine("/etc/machine-id"),
    boot_time: parseBootTime((await readText("/proc/stat")) ?? ""),
    virtualization: await virtualization(),
    timezone: await timezone(),
  };
}
