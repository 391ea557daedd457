// Parsers of the package managers' "what would be upgraded" output. The agent never refreshes the
// package index unless asked (refresh_cache), so these read the index the host already has.

/** One pending update. */
export interface PendingUpdate {
  name: string;
  current_version: string | null;
  candidate_version: string;
  security: boolean;
  source: string | null;
}

/**
 * `apt-get -s -o Debug::NoLocking=1 upgrade` (also dist-upgrade): lines
 * `Inst name [current] (candidate origin1, origin2 [arch])`. An update is a security update when
 * one of its origins is a `-security` suite (Debian `bookworm-security`, Ubuntu `jammy-security`).
 */
export function parseAptSimulate(text: string): PendingUpdate[] {
  const out: PendingUpdate[] = [];
  for (const line of text.split("\n")) {
    const match = /^Inst (\S+) (?:\[([^\]]+)\] )?\((\S+) ([^)]*?)(?: \[[^\]]+\])?\)/.exec(line);
    if (!match) continue;
    const origins = match[4];
    out.push({
      name: match[1],
      current_version: match[2] ?? null,
      candidate_version: match[3],
      security: /(^|[\s,/])[\w.-]*-security\b/.test(origins) || /Debian-Security/i.test(origins),
      source: origins.trim() === "" ? null : origins.trim(),
    });
  }
  return out;
}

/**
 * `dnf check-update -q` / `yum check-update -q` (exit 100 = updates): `name.arch  version  repo`
 * lines; "Obsoleting Packages" and continuation lines end the list. `security` names the packages
 * `dnf updateinfo list --security -q` lists (`advisory type name-version.arch`).
 */
export function parseDnfCheckUpdate(text: string, securityPackages: Set<string>): PendingUpdate[] {
  const out: PendingUpdate[] = [];
  for (const line of text.split("\n")) {
    if (/^Obsoleting/i.test(line)) break;
    const f = line.trim().split(/\s+/);
    if (f.length !== 3 || line.startsWith(" ")) continue;
    const dot = f[0].lastIndexOf(".");
    if (dot <= 0) continue;
    const name = f[0].slice(0, dot);
    out.push({
      name,
      current_version: null,
      candidate_version: f[1],
      security: securityPackages.has(name),
      source: f[2],
    });
  }
  return out;
}

/** `dnf updateinfo list --security -q`: `ADVISORY  type  name-version-release.arch` → package names. */
export function parseDnfSecurityList(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3) continue;
    const nevra = f[f.length - 1];
    // name-version-release.arch: the name is everything before the second-to-last dash.
    const withoutArch = nevra.slice(0, nevra.lastIndexOf("."));
    const parts = withoutArch.split("-");
    if (parts.length >= 3) names.add(parts.slice(0, -2).join("-"));
  }
  return names;
}

/** `apk version -l '<'`: `name-1.2.3-r0 < 1.2.4-r0` lines (the first line is a header). */
export function parseApkVersion(text: string): PendingUpdate[] {
  const out: PendingUpdate[] = [];
  for (const line of text.split("\n")) {
    const match = /^(\S+)-(\d[^\s-]*-r\d+)\s+<\s+(\S+)/.exec(line.trim());
    if (!match) continue;
    out.push({
      name: match[1],
      current_version: match[2],
      candidate_version: match[3],
      security: false,
      source: null,
    });
  }
  return out;
}

/** `checkupdates` (pacman-contrib) or `pacman -Qu`: `name current -> candidate`. */
export function parsePacmanUpdates(text: string): PendingUpdate[] {
  const out: PendingUpdate[] = [];
  for (const line of text.split("\n")) {
    const match = /^(\S+) (\S+) -> (\S+)/.exec(line.trim());
    if (!match) continue;
    out.push({
      name: match[1],
      current_version: match[2],
      candidate_version: match[3],
      security: false,
      source: null,
    });
  }
  return out;
}
