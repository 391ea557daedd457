import type { Package } from "../../../src/protocol/inventory-sections";

// Parsers of the four package databases, each fed the text the collector read. Pure functions, so
// unit tests feed them files recorded on Debian, Ubuntu, Fedora/RHEL, Alpine and Arch.

const MAX_DESCRIPTION = 200;

function firstLine(text: string | undefined): string | null {
  if (!text) return null;
  const line = text.split("\n")[0].trim();
  return line === "" ? null : line.slice(0, MAX_DESCRIPTION);
}

function epochSecondsIso(raw: string | undefined): string | null {
  if (!raw || !/^\d+$/.test(raw)) return null;
  return new Date(Number(raw) * 1000).toISOString();
}

/** Splits RFC 822-style stanzas (dpkg status, blank-line separated) into field maps; continuation lines join the field. */
function stanzas(text: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  let current = new Map<string, string>();
  let last: string | null = null;
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (current.size > 0) out.push(current);
      current = new Map();
      last = null;
      continue;
    }
    if ((line.startsWith(" ") || line.startsWith("\t")) && last) {
      current.set(last, `${current.get(last)}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    last = line.slice(0, colon);
    current.set(last, line.slice(colon + 1).trim());
  }
  if (current.size > 0) out.push(current);
  return out;
}

/**
 * /var/lib/dpkg/status: packages whose Status is `install ok installed` (also `hold ok installed`),
 * or every package with `all`. `installedAt(name, arch)` supplies an install time (the mtime of
 * /var/lib/dpkg/info/<pkg>.list, which dpkg writes when it unpacks).
 */
export function parseDpkgStatus(text: string): Package[] {
  const packages: Package[] = [];
  for (const fields of stanzas(text)) {
    const name = fields.get("Package");
    const version = fields.get("Version");
    const status = fields.get("Status") ?? "";
    if (!name || !version) continue;
    const state = status.split(" ")[2] ?? "unknown";
    // Removed packages leave config-files / not-installed stanzas behind; they are not installed.
    if (state !== "installed") continue;
    packages.push({
      name,
      version,
      architecture: fields.get("Architecture") ?? "unknown",
      status: "installed",
      description: firstLine(fields.get("Description")),
      installed_at: null,
    });
  }
  return packages;
}

/** The query format `parseRpmQuery` reads; one package per line, tab-separated. */
export const RPM_QUERY_FORMAT =
  "%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{INSTALLTIME}\\t%{SUMMARY}\\n";

/** `rpm -qa --qf RPM_QUERY_FORMAT` output; an epoch of 0 is dropped from the version, as rpm shows it. */
export function parseRpmQuery(text: string): Package[] {
  const packages: Package[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const [name, evr, arch, installTime, ...summary] = line.split("\t");
    if (!name || !evr) continue;
    // gpg-pubkey entries are keys in the rpm database, not software.
    if (name === "gpg-pubkey") continue;
    const version = evr.startsWith("0:") ? evr.slice(2) : evr;
    packages.push({
      name,
      version,
      architecture: !arch || arch === "(none)" ? "noarch" : arch,
      status: "installed",
      description: firstLine(summary.join("\t")),
      installed_at: epochSecondsIso(installTime),
    });
  }
  return packages;
}

/** /lib/apk/db/installed: blank-line separated records of `X:value` lines (P name, V version, A arch, T description, t build time). */
export function parseApkInstalled(text: string): Package[] {
  const packages: Package[] = [];
  for (const record of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of record.split("\n")) {
      if (line.length >= 2 && line[1] === ":" && !fields.has(line[0])) fields.set(line[0], line.slice(2));
    }
    const name = fields.get("P");
    const version = fields.get("V");
    if (!name || !version) continue;
    packages.push({
      name,
      version,
      architecture: fields.get("A") ?? "unknown",
      status: "installed",
      description: firstLine(fields.get("T")),
      // apk keeps no install time; `t` is the build time, so it is not shown as one.
      installed_at: null,
    });
  }
  return packages;
}

/** One /var/lib/pacman/local/<pkg>/desc file: `%NAME%` headers each followed by value lines. */
export function parsePacmanDesc(text: string): Package | null {
  const fields = new Map<string, string[]>();
  let key: string | null = null;
  for (const line of text.split("\n")) {
    const header = /^%([A-Z0-9]+)%$/.exec(line.trim());
    if (header) {
      key = header[1];
      fields.set(key, []);
    } else if (key && line.trim() !== "") {
      fields.get(key)?.push(line.trim());
    } else {
      key = null;
    }
  }
  const name = fields.get("NAME")?.[0];
  const version = fields.get("VERSION")?.[0];
  if (!name || !version) return null;
  return {
    name,
    version,
    architecture: fields.get("ARCH")?.[0] ?? "unknown",
    status: "installed",
    description: firstLine(fields.get("DESC")?.[0]),
    installed_at: epochSecondsIso(fields.get("INSTALLDATE")?.[0]),
  };
}
