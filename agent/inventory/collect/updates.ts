import { stat } from "node:fs/promises";
import { compareText } from "../../compare";
import { readText, runCommand, Unavailable } from "../budget";
import {
  type PendingUpdate,
  parseApkVersion,
  parseAptSimulate,
  parseDnfCheckUpdate,
  parseDnfSecurityList,
  parsePacmanUpdates,
} from "../parse/updates";

const CHECK_TIMEOUT_MS = 60_000;
const REFRESH_TIMEOUT_MS = 300_000;

interface Check {
  package_manager: string;
  pending: PendingUpdate[];
  cache_age_seconds: number | null;
}

async function ageSeconds(path: string): Promise<number | null> {
  try {
    return Math.max(0, Math.round((Date.now() - (await stat(path)).mtimeMs) / 1000));
  } catch {
    return null;
  }
}

async function apt(refresh: boolean): Promise<Check | null> {
  if ((await readText("/var/lib/dpkg/status")) === null) return null;
  // Only when asked: `apt-get update` needs the network and the dpkg lock.
  if (refresh) await runCommand("apt-get", ["update", "-qq"], { timeoutMs: REFRESH_TIMEOUT_MS });
  // Debug::NoLocking: a simulation needs no lock, so it works while unattended-upgrades runs and without root.
  const out = await runCommand("apt-get", ["-s", "-o", "Debug::NoLocking=1", "dist-upgrade"], {
    timeoutMs: CHECK_TIMEOUT_MS,
    env: { DEBIAN_FRONTEND: "noninteractive" },
  });
  if (out?.code !== 0) return null;
  return {
    package_manager: "apt",
    pending: parseAptSimulate(out.stdout),
    cache_age_seconds: await ageSeconds("/var/lib/apt/lists"),
  };
}

async function dnf(refresh: boolean): Promise<Check | null> {
  for (const tool of ["dnf", "yum"]) {
    const args = ["check-update", "-q", ...(refresh ? ["--refresh"] : ["--cacheonly"])];
    const out = await runCommand(tool, args, { timeoutMs: refresh ? REFRESH_TIMEOUT_MS : CHECK_TIMEOUT_MS });
    if (!out) continue;
    // 100 = updates available, 0 = none, anything else = could not check.
    if (out.code !== 0 && out.code !== 100) return null;
    const security = await runCommand(tool, ["updateinfo", "list", "--security", "-q", "--cacheonly"], {
      timeoutMs: CHECK_TIMEOUT_MS,
    });
    return {
      package_manager: tool,
      pending: parseDnfCheckUpdate(out.stdout, parseDnfSecurityList(security?.stdout ?? "")),
      cache_age_seconds: null,
    };
  }
  return null;
}

async function apk(refresh: boolean): Promise<Check | null> {
  if ((await readText("/lib/apk/db/installed")) === null) return null;
  if (refresh) await runCommand("apk", ["update", "-q"], { timeoutMs: REFRESH_TIMEOUT_MS });
  const out = await runCommand("apk", ["version", "-l", "<"], { timeoutMs: CHECK_TIMEOUT_MS });
  if (out?.code !== 0) return null;
  return { package_manager: "apk", pending: parseApkVersion(out.stdout), cache_age_seconds: null };
}

async function pacman(): Promise<Check | null> {
  // checkupdates syncs a private copy of the database, so it never touches the host's own.
  const out = await runCommand("checkupdates", [], { timeoutMs: REFRESH_TIMEOUT_MS });
  if (!out) return null;
  // 2 = no updates; 0 = updates listed.
  if (out.code !== 0 && out.code !== 2) return null;
  return { package_manager: "pacman", pending: parsePacmanUpdates(out.stdout), cache_age_seconds: null };
}

/** Whether the host wants a reboot, and which packages asked for it (Debian/Ubuntu sentinel, or needs-restarting). */
async function rebootRequired(): Promise<{ required: boolean; packages: string[] }> {
  for (const dir of ["/var/run", "/run"]) {
    if ((await readText(`${dir}/reboot-required`)) !== null) {
      const pkgs = (await readText(`${dir}/reboot-required.pkgs`)) ?? "";
      const packages = [
        ...new Set(
          pkgs
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean),
        ),
      ].sort();
      return { required: true, packages };
    }
  }
  const needs = await runCommand("needs-restarting", ["-r"], { timeoutMs: CHECK_TIMEOUT_MS });
  // needs-restarting -r: exit 1 = reboot needed.
  if (needs && needs.code === 1) return { required: true, packages: [] };
  return { required: false, packages: [] };
}

/**
 * `updates`: pending updates from the host's package manager (apt, dnf/yum, apk, pacman) with a
 * security flag, and whether a reboot is required. The index is refreshed only with `refreshCache`.
 */
export async function collectUpdates(options: { refreshCache: boolean }) {
  const check =
    (await apt(options.refreshCache)) ??
    (await apk(options.refreshCache)) ??
    (await dnf(options.refreshCache)) ??
    (await pacman());
  if (!check)
    throw new Unavailable(
      "no supported package manager (apt, dnf, yum, apk, pacman) could check for updates",
    );
  const reboot = await rebootRequired();
  const pending = [...check.pending].sort((a, b) => compareText(a.name, b.name));
  return {
    package_manager: check.package_manager,
    pending,
    pending_count: pending.length,
    security_count: pending.filter((p) => p.security).length,
    reboot_required: reboot.required,
    reboot_required_packages: reboot.packages,
    checked_at: new Date().toISOString(),
    cache_age_seconds: check.cache_age_seconds,
  };
}
