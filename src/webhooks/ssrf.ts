import { intToIpv4, ipv4ToInt } from "../net/cidr";

// SSRF deny list for webhook destinations. A Worker cannot resolve DNS before it
// fetches, so only what the URL itself says is checked: IP literals (in every
// spelling the URL parser accepts) and a list of names that always mean "inside".

/** Names that reach the host itself or a cloud metadata service. `*.localhost` is denied too. */
const DENIED_HOSTNAMES = new Set([
  "localhost",
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "instance-data",
  "instance-data.ec2.internal",
]);

/** Metadata endpoints reached by IP (AWS/GCP/Azure, ECS, Alibaba, Oracle); named before the wider ranges. */
const METADATA_V4 = new Set(["169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192"]);

/** fd00:ec2::254, the AWS metadata service over IPv6. */
const AWS_METADATA_V6 = [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254].join(":");

const V4_RANGES: [base: string, prefix: number, label: string][] = [
  ["0.0.0.0", 8, "unspecified address (0.0.0.0/8)"],
  ["10.0.0.0", 8, "private address (RFC 1918)"],
  ["100.64.0.0", 10, "carrier-grade NAT address (100.64.0.0/10)"],
  ["127.0.0.0", 8, "loopback address"],
  ["169.254.0.0", 16, "link-local address"],
  ["172.16.0.0", 12, "private address (RFC 1918)"],
  ["192.0.0.0", 24, "IETF protocol assignment (192.0.0.0/24)"],
  ["192.168.0.0", 16, "private address (RFC 1918)"],
  ["198.18.0.0", 15, "benchmarking address (198.18.0.0/15)"],
  ["224.0.0.0", 4, "multicast address"],
  ["240.0.0.0", 4, "reserved address (240.0.0.0/4)"],
];

/**
 * Parses an IPv4 literal the way URL parsers and `inet_aton` do: 1–4 parts,
 * each decimal, `0x` hex or `0`-prefixed octal, the last part filling the
 * remaining bytes (`2130706433`, `0x7f.1`, `0177.0.0.1` are all 127.0.0.1).
 * Returns the address as an unsigned integer, or null when `text` is not one.
 */
export function parseIpv4(text: string): number | null {
  const parts = text.replace(/\.$/, "").split(".");
  if (parts.length === 0 || parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = Number.parseInt(part.slice(1), 8);
    else if (/^(0|[1-9]\d*)$/.test(part)) value = Number(part);
    else return null;
    if (!Number.isSafeInteger(value)) return null;
    values.push(value);
  }
  const last = values.pop();
  if (last === undefined) return null;
  if (values.some((v) => v > 255) || last >= 256 ** (4 - values.length)) return null;
  return values.reduce((acc, v, i) => acc + v * 256 ** (3 - i), 0) + last;
}

/** Parses an IPv6 literal (brackets optional, embedded dotted IPv4 allowed) into 8 groups, or null. */
export function parseIpv6(text: string): number[] | null {
  let s = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (!s.includes(":") || s.includes("%")) return null;
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(":");
  const lastPart = s.slice(lastColon + 1);
  if (lastPart.includes(".")) {
    if (!/^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(lastPart)) return null;
    const octets = lastPart.split(".").map(Number);
    if (octets.some((o) => o > 255)) return null;
    tail = [octets[0] * 256 + octets[1], octets[2] * 256 + octets[3]];
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith("::")) s = s.slice(0, -1);
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string) =>
    part === "" ? [] : part.split(":").map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? Number.parseInt(g, 16) : -1));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if (head.includes(-1) || rest.includes(-1)) return null;
  const count = head.length + rest.length + tail.length;
  if (halves.length === 1) return count === 8 ? [...head, ...tail] : null;
  if (count > 7) return null;
  return [...head, ...new Array(8 - count).fill(0), ...rest, ...tail];
}

function ipv4Denial(n: number): string | null {
  if (METADATA_V4.has(intToIpv4(n))) return "cloud metadata address";
  for (const [base, prefix, label] of V4_RANGES) {
    // The table's bases are literal dotted quads, so they always parse.
    const start = ipv4ToInt(base) ?? 0;
    if (n >= start && n < start + 2 ** (32 - prefix)) return label;
  }
  return null;
}

function ipv6Denial(g: number[]): string | null {
  const embedded = (hi: number, lo: number) => hi * 65536 + lo;
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (g.every((x) => x === 0)) return "unspecified address (::)";
  if (zeroUpTo(7) && g[7] === 1) return "loopback address (::1)";
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d),
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address that decides.
  if (zeroUpTo(5) && (g[5] === 0xffff || g[5] === 0)) return ipv4Denial(embedded(g[6], g[7]));
  if (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0) return ipv4Denial(embedded(g[6], g[7]));
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
    return ipv4Denial(embedded(g[6], g[7]));
  if (g[0] === 0x2002) return ipv4Denial(embedded(g[1], g[2]));
  if (g.join(":") === AWS_METADATA_V6) return "cloud metadata address";
  if ((g[0] & 0xfe00) === 0xfc00) return "unique local address (fc00::/7)";
  if ((g[0] & 0xffc0) === 0xfe80) return "link-local address (fe80::/10)";
  if ((g[0] & 0xffc0) === 0xfec0) return "site-local address (fec0::/10)";
  if ((g[0] & 0xff00) === 0xff00) return "multicast address";
  if (g[0] === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return "discard-only address (100::/64)";
  return null;
}

/**
 * Why a hostname (as `URL.hostname` gives it) must not receive webhooks, or null
 * when it may. IP literals are classified in every spelling; names are checked
 * against the deny list only, since they cannot be resolved here.
 * @example hostDenial("0x7f.1") // "loopback address"
 */
export function hostDenial(hostname: string): string | null {
  const host = hostname.toLowerCase().replace(/\.+$/, "");
  const v6 = parseIpv6(host);
  if (v6) return ipv6Denial(v6);
  const v4 = parseIpv4(host);
  if (v4 !== null) return ipv4Denial(v4);
  if (host === "") return "empty host";
  if (host === "localhost" || host.endsWith(".localhost")) return "loopback hostname (localhost)";
  if (DENIED_HOSTNAMES.has(host)) return "cloud metadata hostname";
  return null;
}

/**
 * The SSRF check of a webhook URL: null when it may be called, otherwise a
 * message for the `url` field. `allowPrivate` (WEBHOOK_ALLOW_PRIVATE_IPS) lifts it.
 * @example webhookUrlDenial("http://169.254.169.254/", false)
 */
export function webhookUrlDenial(url: string | URL, allowPrivate: boolean): string | null {
  if (allowPrivate) return null;
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch {
    return "must be an absolute http(s) URL";
  }
  const reason = hostDenial(parsed.hostname);
  return reason
    ? `host "${parsed.hostname}" is denied (${reason}) unless WEBHOOK_ALLOW_PRIVATE_IPS=true`
    : null;
}
