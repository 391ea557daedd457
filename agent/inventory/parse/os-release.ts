/** The fields of /etc/os-release the inventory shows (os-release(5)); null when absent. */
export interface OsRelease {
  id: string | null;
  id_like: string | null;
  name: string | null;
  version_id: string | null;
  pretty_name: string | null;
}

// Values may be double- or single-quoted, with backslash escapes inside double quotes (os-release(5)).
function unquote(raw: string): string {
  const value = raw.trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(["\\$`])/g, "$1");
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  return value;
}

/** Parses os-release text into all its KEY=value pairs. */
export function parseOsReleasePairs(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) pairs.set(match[1], unquote(match[2]));
  }
  return pairs;
}

/** Parses /etc/os-release; PRETTY_NAME falls back to NAME VERSION, as the spec says it may. */
export function parseOsRelease(text: string): OsRelease {
  const pairs = parseOsReleasePairs(text);
  const get = (key: string) => {
    const value = pairs.get(key);
    return value === undefined || value === "" ? null : value;
  };
  const name = get("NAME");
  const version = get("VERSION");
  const pretty = get("PRETTY_NAME") ?? (name ? [name, version].filter(Boolean).join(" ") : null);
  return {
    id: get("ID"),
    id_like: get("ID_LIKE"),
    name,
    version_id: get("VERSION_ID"),
    pretty_name: pretty,
  };
}
