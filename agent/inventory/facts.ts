import { arch, hostname, release } from "node:os";
import { readLine } from "./budget";
import { primaryRoute } from "./collect/network";
import { osRelease } from "./collect/system";

/** The machine facts a `hello` carries (issue 18). */
export interface HostFacts {
  hostname: string;
  arch: string;
  os_version: string | null;
  kernel: string;
  primary_ip: string | null;
  boot_id: string | null;
}

/** Reads the hello facts: cheap file reads, done before connecting and on every reconnect. */
export async function hostFacts(): Promise<HostFacts> {
  const [os, route, bootId] = await Promise.all([
    osRelease().catch(() => null),
    primaryRoute().catch(() => null),
    // The override lets tests stand a restarted agent in for a rebooted machine.
    readLine(process.env.OUTPOST_BOOT_ID_FILE || "/proc/sys/kernel/random/boot_id"),
  ]);
  return {
    hostname: hostname(),
    arch: arch(),
    os_version: os?.pretty_name ?? null,
    kernel: release(),
    primary_ip: route?.address ?? null,
    boot_id: bootId,
  };
}
