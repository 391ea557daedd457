import { readdir, stat } from "node:fs/promises";
import type { Package } from "../../../src/protocol/inventory-sections";
import { compareText } from "../../compare";
import { readText, runCommand, Unavailable } from "../budget";
import {
  parseApkInstalled,
  parseDpkgStatus,
  parsePacmanDesc,
  parseRpmQuery,
  RPM_QUERY_FORMAT,
} from "../parse/packages";

// dpkg writes info/<pkg>.list (or <pkg>:<arch>.list for multi-arch) when it unpacks: its mtime is
// the nearest thing to an install time dpkg keeps.
async function dpkgInstallTimes(packages: Package[]): Promise<void> {
  let files: Set<string>;
  try {
    files = new Set(await readdir("/var/lib/dpkg/info"));
  } catch {
    return;
  }
  await Promise.all(
    packages.map(async (p) => {
      const candidates = [`${p.name}:${p.architecture}.list`, `${p.name}.list`];
      const file = candidates.find((c) => files.has(c));
      if (!file) return;
      try {
        p.installed_at = (await stat(`/var/lib/dpkg/info/${file}`)).mtime.toISOString();
      } catch {
        // left null
      }
    }),
  );
}

async function pacmanPackages(): Promise<Package[] | null> {
  let dirs: string[];
  try {
    dirs = await readdir("/var/lib/pacman/local");
  } catch {
    return null;
  }
  const out: Package[] = [];
  for (const dir of dirs) {
    const text = await readText(`/var/lib/pacman/local/${dir}/desc`);
    const parsed = text ? parsePacmanDesc(text) : null;
    if (parsed) out.push(parsed);
  }
  return out;
}

/** The package manager of this host and its installed packages: dpkg, rpm, apk or pacman, first found. */
export async function installedPackages(): Promise<{
  package_manager: "dpkg" | "rpm" | "apk" | "pacman";
  packages: Package[];
}> {
  const dpkg = await readText("/var/lib/dpkg/status");
  if (dpkg !== null) {
    const packages = parseDpkgStatus(dpkg);
    await dpkgInstallTimes(packages);
    return { package_manager: "dpkg", packages };
  }
  const apk = await readText("/lib/apk/db/installed");
  if (apk !== null) return { package_manager: "apk", packages: parseApkInstalled(apk) };
  const pacman = await pacmanPackages();
  if (pacman !== null) return { package_manager: "pacman", packages: pacman };
  // The rpm database is Berkeley DB or SQLite depending on the release: only rpm itself reads both.
  const rpm = await runCommand("rpm", ["-qa", "--qf", RPM_QUERY_FORMAT], { timeoutMs: 20_000 });
  if (rpm && rpm.code === 0) return { package_manager: "rpm", packages: parseRpmQuery(rpm.stdout) };
  throw new Unavailable("no supported package database (dpkg, rpm, apk, pacman) on this host");
}

/** `software`: every installed package, sorted by name, architecture, version. */
export async function collectSoftware() {
  const { package_manager, packages } = await installedPackages();
  packages.sort(
    (a, b) =>
      compareText(a.name, b.name) ||
      compareText(a.architecture, b.architecture) ||
      compareText(a.version, b.version),
  );
  return { package_manager, packages };
}
