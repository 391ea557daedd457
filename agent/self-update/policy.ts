// Which releases a `self_update` frame may install (review L5): the bundle runs as root and its
// checksum comes in the same frame, so the download must be https (plain http only to loopback),
// and an older version than the running one needs the request's explicit `allow_downgrade`.
import { isLoopbackHostname } from "../../src/protocol/loopback";

type Parsed = { core: number[]; pre: string[] };

function parseVersion(text: string): Parsed | null {
  const match = /^v?(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(text.trim());
  if (!match) return null;
  return { core: match[1].split(".").map(Number), pre: match[2] ? match[2].split(".") : [] };
}

/**
 * Orders two versions the semver way (build metadata ignored, a pre-release before its release,
 * missing parts count as 0): negative when `a` is older. Null when either is not a version.
 * @example compareVersions("1.10.0", "1.9.3") // 1
 */
export function compareVersions(a: string, b: string): number | null {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) return null;
  for (let i = 0; i < Math.max(x.core.length, y.core.length); i++) {
    const d = (x.core[i] ?? 0) - (y.core[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre.length === 0 || y.pre.length === 0) return Math.sign(y.pre.length - x.pre.length);
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined || q === undefined) return p === undefined ? -1 : 1;
    if (p === q) continue;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) return Math.sign(Number(p) - Number(q));
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

/**
 * Why this agent must not install `release`, or null when it may.
 * @example releaseRefusal({ version: "1.0.0", url: "https://x/a.mjs" }, "2.0.0") // "refusing to downgrade …"
 */
export function releaseRefusal(
  release: { version: string; url: string; allow_downgrade?: boolean },
  running: string,
): string | null {
  let url: URL;
  try {
    url = new URL(release.url);
  } catch {
    return `refusing release URL ${JSON.stringify(release.url)}: not a URL`;
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHostname(url.hostname))) {
    return `refusing release URL ${url.origin}: only https (or http to loopback) is accepted for a bundle that runs as root`;
  }
  if (release.allow_downgrade) return null;
  const order = compareVersions(release.version, running);
  if (order === null) {
    return `refusing to install ${release.version} over ${running}: cannot tell which is newer (send allow_downgrade: true to force it)`;
  }
  if (order < 0) {
    return `refusing to downgrade from ${running} to ${release.version} (the request did not say allow_downgrade: true)`;
  }
  return null;
}
